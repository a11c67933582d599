#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

/// A microcontroller keepalive, the JSON compatibility codec (Spec/protocol.md,
/// section 11): devices that cannot speak the binary protocol POST this, and it maps
/// onto the same messages an agent sends, so the server has one ingest path.
public struct Keepalive: Hashable, Sendable {
    public struct Log: Hashable, Sendable {
        public var severity: Severity
        public var text: String
    }

    public var uptimeMs: UInt64?
    public var seq: UInt64?
    /// Sorted by name, so ids and output are deterministic.
    public var metrics: [KeyValueMetric]
    public var logs: [Log]

    public struct KeyValueMetric: Hashable, Sendable {
        public var name: String
        public var value: Double
    }

    /// The limits of section 11.
    public static let maxBodyBytes = 16 * 1024
    public static let maxMetrics = 64
    public static let maxLogs = 32
    public static let maxLogBytes = 4096
    /// Metric values are kept to a thousandth.
    public static let metricScale: Int64 = 3
    /// The stream every device's logs go to.
    public static let streamKey = "device"

    /// Parses and checks a body; nothing is produced unless all of it is valid.
    public static func decode(_ body: [UInt8]) throws(KeepaliveError) -> Keepalive {
        guard body.count <= maxBodyBytes else { throw .bodyTooLarge(body.count, limit: maxBodyBytes) }
        let raw: Body
        do {
            raw = try JSONDecoder().decode(Body.self, from: Data(body))
        } catch let error as DecodingError {
            switch error {
            case .dataCorrupted(let context) where context.codingPath.isEmpty:
                throw .malformedJSON(context.debugDescription)
            case .typeMismatch(_, let context) where context.codingPath.isEmpty:
                throw .malformedJSON("the top level must be an object")
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
                .dataCorrupted(let context):
                let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
                throw .invalidField("\(path): \(context.debugDescription)")
            @unknown default:
                throw .malformedJSON("\(error)")
            }
        } catch {
            throw .malformedJSON("\(error)")
        }
        return try validate(raw)
    }

    private static func validate(_ raw: Body) throws(KeepaliveError) -> Keepalive {
        let metrics = (raw.metrics ?? [:]).sorted { $0.key < $1.key }
        guard metrics.count <= maxMetrics else { throw .invalidField("metrics: more than \(maxMetrics) entries") }
        var checked: [KeyValueMetric] = []
        for (name, value) in metrics {
            guard isMetricName(name) else {
                throw .invalidField("metrics: name '\(name.prefix(64))' must be 1-64 of A-Z a-z 0-9 _ . -")
            }
            guard value.isFinite, abs(value) < 9e15 else { throw .invalidField("metrics.\(name): value out of range") }
            checked.append(KeyValueMetric(name: name, value: value))
        }
        let logs = raw.logs ?? []
        guard logs.count <= maxLogs else { throw .invalidField("logs: more than \(maxLogs) entries") }
        var checkedLogs: [Log] = []
        for (index, log) in logs.enumerated() {
            guard let severity = severity(named: log.level ?? "info") else {
                throw .invalidField("logs.\(index).level: unknown level '\((log.level ?? "").prefix(16))'")
            }
            guard log.msg.utf8.count <= maxLogBytes else { throw .invalidField("logs.\(index).msg: longer than \(maxLogBytes) bytes") }
            checkedLogs.append(Log(severity: severity, text: log.msg))
        }
        return Keepalive(
            uptimeMs: try counter(raw.uptime_ms, "uptime_ms"), seq: try counter(raw.seq, "seq"),
            metrics: checked, logs: checkedLogs)
    }

    /// Counters arrive as JSON numbers; read as Double so that a negative or
    /// fractional one gets a clear field error rather than a parse failure.
    private static func counter(_ value: Double?, _ field: String) throws(KeepaliveError) -> UInt64? {
        guard let value else { return nil }
        guard value >= 0, value <= 9_007_199_254_740_992, value.rounded() == value else {
            throw .invalidField("\(field): must be a whole number from 0 to 2^53")
        }
        return UInt64(value)
    }

    /// The messages an agent would have sent for this keepalive.
    ///
    /// - Parameters:
    ///   - receivedAt: the server's clock, in ms since the epoch; devices rarely know the time.
    ///   - firstLogSeq: the sequence number the server gives the first log line, from
    ///     the device stream's stored state.
    public func messages(receivedAt: Int64, firstLogSeq: UInt64) -> [Message] {
        var messages: [Message] = []
        var descriptors: [MetricDescriptor] = []
        var values: [MetricValue] = []
        for (index, metric) in metrics.enumerated() {
            descriptors.append(MetricDescriptor(id: UInt32(index), name: metric.name, unit: "", scale: Self.metricScale, kind: .gauge))
            values.append(MetricValue(id: UInt32(index), value: metric.value))
        }
        if let uptimeMs {
            let id = UInt32(descriptors.count)
            descriptors.append(MetricDescriptor(id: id, name: "uptime_ms", unit: "ms", scale: 0, kind: .counter))
            values.append(MetricValue(id: id, value: Double(uptimeMs)))
        }
        if !descriptors.isEmpty {
            messages.append(.metricDescriptors(MetricDescriptors(descriptors: descriptors)))
            messages.append(.metricSample(MetricSample(timestamp: receivedAt, values: values)))
        }
        if !logs.isEmpty {
            messages.append(.logStreamOpen(LogStreamOpen(
                streamID: 0, key: Self.streamKey, source: .device, name: "device", path: "", container: "",
                pid: 0, exe: "", argv: [], user: "", started: 0)))
            let records = logs.map { LogRecord(timestamp: receivedAt, severity: $0.severity, text: $0.text) }
            messages.append(.logBatch(LogBatch(streamID: 0, firstSeq: firstLogSeq, records: records)))
        }
        return messages
    }

    static func isMetricName(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2E || byte == 0x2D
        }
    }

    static func severity(named name: String) -> Severity? {
        switch name.lowercased() {
        case "trace": .trace
        case "debug": .debug
        case "info", "notice": .info
        case "warn", "warning": .warn
        case "error": .error
        case "fatal", "critical": .fatal
        default: nil
        }
    }

    /// The body as it arrives; every field optional, as the contract says.
    private struct Body: Decodable {
        var uptime_ms: Double?
        var seq: Double?
        var metrics: [String: Double]?
        var logs: [LogItem]?
    }

    private struct LogItem: Decodable {
        var level: String?
        var msg: String
    }
}
