public import Prometheus
import Synchronization

/// The server's own figures and the fleet's gauges, in Prometheus text exposition at
/// `GET /metrics`, so an existing Prometheus and Grafana can scrape the whole fleet.
///
/// Its own registry rather than the global swift-metrics bootstrap: several servers
/// (tests) can live in one process without mixing their numbers.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let agentConnections: Gauge
    public let streamSubscribers: Gauge
    public let framesIn: Counter
    public let framesOut: Counter
    public let bytesIn: Counter
    public let bytesOut: Counter
    public let handshakesRefused: Counter
    public let logGapRecords: Counter
    public let logRowsStored: Gauge
    public let logDuplicatesDropped: Gauge
    public let ingestLagSeconds: Gauge
    public let dbBatchSeconds: Gauge
    public let keepalives: Counter
    public let keepalivesRefused: Counter
    private let nodeGauges = Mutex<[String: [String: Gauge]]>([:])

    public init() {
        agentConnections = registry.makeGauge(name: "dvic_agent_connections", help: "Open agent WebSocket connections")
        streamSubscribers = registry.makeGauge(name: "dvic_stream_subscribers", help: "Open dashboard and CLI stream connections")
        framesIn = registry.makeCounter(name: "dvic_frames_in_total", help: "Protocol frames received from agents")
        framesOut = registry.makeCounter(name: "dvic_frames_out_total", help: "Protocol frames sent to agents")
        bytesIn = registry.makeCounter(name: "dvic_bytes_in_total", help: "WebSocket payload bytes received from agents")
        bytesOut = registry.makeCounter(name: "dvic_bytes_out_total", help: "WebSocket payload bytes sent to agents")
        handshakesRefused = registry.makeCounter(name: "dvic_handshakes_refused_total", help: "Agent handshakes refused")
        logGapRecords = registry.makeCounter(name: "dvic_log_gap_records_total", help: "Log records agents reported dropped from full spools")
        logRowsStored = registry.makeGauge(name: "dvic_log_rows_stored", help: "Log records stored since start")
        logDuplicatesDropped = registry.makeGauge(name: "dvic_log_duplicates_dropped", help: "Replayed log records dropped since start")
        ingestLagSeconds = registry.makeGauge(name: "dvic_ingest_lag_seconds", help: "Age of the newest record of the last log write at its commit")
        dbBatchSeconds = registry.makeGauge(name: "dvic_db_batch_seconds", help: "Duration of the last log write transaction")
        keepalives = registry.makeCounter(name: "dvic_keepalives_total", help: "Device keepalives accepted")
        keepalivesRefused = registry.makeCounter(name: "dvic_keepalives_refused_total", help: "Device keepalives refused")
    }

    /// Per-node gauges: up, CPU, memory, temperature. A gauge exists only while its
    /// value is known (the exposition format has no "unknown"), and gauges of nodes no
    /// longer listed are removed, so a deleted node stops being exported.
    public func updateFleet(_ nodes: [(id: String, name: String, up: Bool, values: [String: Double])]) {
        nodeGauges.withLock { gauges in
            var seen = Set<String>()
            for node in nodes {
                seen.insert(node.id)
                let labels = [("node", node.id), ("name", node.name)]
                let temperatures = node.values.filter { $0.key.hasPrefix("temp.") || $0.key == "temp_c" }.map(\.value)
                let figures: [(String, String, Double?)] = [
                    ("dvic_node_up", "1 when the node is online", node.up ? 1 : 0),
                    ("dvic_node_cpu_percent", "CPU use, all cores", node.values["cpu.total"]),
                    ("dvic_node_memory_used_bytes", "Memory in use", node.values["mem.used"]),
                    ("dvic_node_temperature_celsius", "Hottest temperature sensor", temperatures.max()),
                ]
                var set = gauges[node.id] ?? [:]
                for (name, help, value) in figures {
                    if let value, value.isFinite {
                        let gauge = set[name] ?? registry.makeGauge(name: name, labels: labels, help: help)
                        gauge.set(value)
                        set[name] = gauge
                    } else if let gauge = set.removeValue(forKey: name) {
                        registry.unregisterGauge(gauge)
                    }
                }
                gauges[node.id] = set
            }
            for (id, set) in gauges where !seen.contains(id) {
                set.values.forEach(registry.unregisterGauge)
                gauges[id] = nil
            }
        }
    }

    public func exposition() -> String {
        registry.emitToString()
    }
}
