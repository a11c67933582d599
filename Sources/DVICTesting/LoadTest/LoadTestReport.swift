import Foundation

/// What a run measured: the JSON of `--json` and the table for people.
public struct LoadTestReport: Sendable, Codable {
    public struct Latency: Sendable, Codable {
        public var count: Int
        public var p50Ms: Int?
        public var p99Ms: Int?
        public var maxMs: Int?
        public var meanMs: Double?
        public init(_ histogram: LatencyHistogram) {
            count = histogram.count
            p50Ms = histogram.percentile(0.5)
            p99Ms = histogram.percentile(0.99)
            maxMs = histogram.count > 0 ? histogram.maxMs : nil
            meanMs = histogram.meanMs.map { ($0 * 10).rounded() / 10 }
        }
    }

    public struct Connect: Sendable, Codable {
        /// Seconds from the first handshake attempt until every node was authenticated.
        public var allAuthenticatedSeconds: Double?
        public var authenticated = 0
        public var refused = 0
        public var refusals: [String] = []
        public var handshake: Latency
        /// Enrollment (one HTTP round trip per node, done before the clock starts).
        public var enrollSeconds: Double
    }

    public struct Traffic: Sendable, Codable {
        public var seconds: Double
        public var frames: Int
        public var logLines: Int64
        public var bytes: Int
        public var framesPerSecond: Double
        public var logLinesPerSecond: Double
        public var bytesPerSecond: Double
        public var bytesPerNodeHour: Double
    }

    public struct Broadcasts: Sendable, Codable {
        public var sent = 0
        /// Per broadcast: milliseconds until every target's result was back (nil: not all came).
        public var allResultsMs: [Int?] = []
        public var targets: [Int] = []
        public var p50Ms: Int?
        public var p99Ms: Int?
        public var maxMs: Int?
        public var incomplete = 0
        /// Broadcasts whose end was read from `GET /v1/commands/{id}` (polled once a
        /// second, so coarse) because the commands stream did not show it.
        public var polled = 0
    }

    public struct Stream: Sendable, Codable {
        public var logEntries: Int
        public var commandProgress: Int
        public var latency: Latency
    }

    /// Nodes whose connection dropped and came back, as the real agent does: a new
    /// handshake, then everything past the welcome's resume point sent again.
    public struct Reconnects: Sendable, Codable, Hashable {
        /// Reconnections that completed the handshake (a node back twice counts twice).
        public var succeeded = 0
        /// Nodes that needed at least one.
        public var nodes = 0
        /// Nodes that lost their connection and were not connected at the end (each
        /// fails the run: its unacknowledged lines are the loss).
        public var notReconnected = 0
        /// Lines sent a second time after a reconnect (the server keeps one copy).
        public var resentLines: Int64 = 0

        public init() {}

        public mutating func merge(_ other: Reconnects) {
            succeeded += other.succeeded
            nodes += other.nodes
            notReconnected += other.notReconnected
            resentLines += other.resentLines
        }
    }

    public struct Usage: Sendable, Codable {
        public var pid: Int32?
        public var peakRSSBytes: Int64?
        public var meanCPUPercent: Double?
        public var peakCPUPercent: Double?
    }

    public var date: String
    public var options: LoadTestOptions
    public var processes = 1
    public var connect: Connect
    public var traffic: Traffic
    public var ingestLag: Latency
    public var broadcasts: Broadcasts
    public var stream: Stream?
    public var server: Usage
    public var loadGenerator: Usage
    /// Whole machine, all cores: percent of one core, so 200 % is a 2-core machine flat out.
    public var machineMeanCPUPercent: Double?
    public var loadAverageAtStart: String
    /// Seconds from the end of the load until the last line was acknowledged (or the
    /// drain timed out): the backlog the server had built up.
    public var drainSeconds: Double
    /// Lines stored per second over load and drain: what the server sustained.
    public var storedLinesPerSecond: Double = 0
    /// Connections that dropped during the load or the drain (ping timeout, server
    /// close, socket error), whether or not the node came back.
    public var disconnectedDuringRun: Int
    /// The most common reasons the simulated side saw for a connection ending.
    public var disconnectReasons: [String] = []
    public var reconnects = Reconnects()
    public var unackedLines: Int64
    public var delivery: DeliveryCheck
    public var failures: [String]
    public var passed: Bool { failures.isEmpty }

    public func table() -> String {
        func ms(_ value: Int?) -> String { value.map { "\($0) ms" } ?? "-" }
        func pct(_ value: Double?) -> String { value.map { String(format: "%.0f %%", $0) } ?? "-" }
        func mib(_ value: Int64?) -> String { value.map { String(format: "%.0f MiB", Double($0) / 1_048_576) } ?? "-" }
        func number(_ value: Double) -> String { String(format: "%.0f", value) }
        var rows: [(String, String)] = [
            ("nodes", "\(options.nodes) over \(processes) process(es)"),
            ("enrollment (before the clock)", String(format: "%.1f s", connect.enrollSeconds)),
            ("all authenticated after", connect.allAuthenticatedSeconds.map { String(format: "%.1f s", $0) } ?? "never"),
            ("authenticated / refused", "\(connect.authenticated) / \(connect.refused)"),
            ("handshake p50 / p99 / max", "\(ms(connect.handshake.p50Ms)) / \(ms(connect.handshake.p99Ms)) / \(ms(connect.handshake.maxMs))"),
            ("load window", String(format: "%.1f s", traffic.seconds)),
            ("frames/s sent", number(traffic.framesPerSecond)),
            ("log lines/s sent", number(traffic.logLinesPerSecond)),
            ("bytes/s sent", number(traffic.bytesPerSecond)),
            ("bytes per node-hour", String(format: "%.1f MB", traffic.bytesPerNodeHour / 1e6)),
            ("ingest lag p50 / p99 / max", "\(ms(ingestLag.p50Ms)) / \(ms(ingestLag.p99Ms)) / \(ms(ingestLag.maxMs)) (\(ingestLag.count) batches)"),
            ("broadcasts (all results back) p50 / p99 / max", "\(ms(broadcasts.p50Ms)) / \(ms(broadcasts.p99Ms)) / \(ms(broadcasts.maxMs)) (\(broadcasts.sent) sent, \(broadcasts.incomplete) incomplete)"),
        ]
        if let stream {
            rows.append(("dashboard stream p50 / p99 / max", "\(ms(stream.latency.p50Ms)) / \(ms(stream.latency.p99Ms)) / \(ms(stream.latency.maxMs)) (\(stream.logEntries) entries)"))
        }
        rows += [
            ("server RSS peak", mib(server.peakRSSBytes)),
            ("server CPU mean / peak", "\(pct(server.meanCPUPercent)) / \(pct(server.peakCPUPercent)) of one core"),
            ("load generator RSS peak, CPU mean", "\(mib(loadGenerator.peakRSSBytes)), \(pct(loadGenerator.meanCPUPercent))"),
            ("machine CPU mean (all cores)", pct(machineMeanCPUPercent)),
            ("load average at start", loadAverageAtStart),
            ("backlog drained after the load", String(format: "%.1f s", drainSeconds)),
            ("lines stored/s over load + drain", number(storedLinesPerSecond)),
            ("log lines sent / stored", "\(delivery.linesSent) / \(delivery.rowsStored)"),
            ("lost / duplicated", "\(delivery.lost) / \(delivery.duplicated)"),
            ("unacknowledged at the end", "\(unackedLines)"),
            ("connections dropped during the run", "\(disconnectedDuringRun)" + (disconnectReasons.isEmpty ? "" : ": " + disconnectReasons.joined(separator: "; "))),
            ("reconnected (nodes) / not back", "\(reconnects.succeeded) (\(reconnects.nodes)) / \(reconnects.notReconnected), \(reconnects.resentLines) lines resent"),
            ("result", passed ? "PASS" : "FAIL: " + failures.joined(separator: "; ")),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
            + (delivery.problems.isEmpty ? "" : "\n" + delivery.problems.map { "  " + $0 }.joined(separator: "\n"))
    }
}
