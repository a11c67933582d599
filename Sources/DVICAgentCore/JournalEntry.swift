#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
public import DVICProtocol

/// One line of `journalctl -o json`, reduced to a log record and its cursor.
public struct JournalEntry: Sendable, Hashable {
    public var cursor: String
    /// Milliseconds since the epoch.
    public var timestamp: Int64
    public var severity: Severity
    /// `identifier[pid]: message`, as syslog shows it.
    public var text: String

    public init(cursor: String, timestamp: Int64, severity: Severity, text: String) {
        self.cursor = cursor
        self.timestamp = timestamp
        self.severity = severity
        self.text = text
    }

    /// The longest text kept: the demo log format's line limit.
    public static let maxTextBytes = 262_144

    /// Syslog priorities: emerg, alert, crit → fatal; err → error; warning → warn; notice, info →
    /// info; debug → debug.
    public static func severity(priority: Int) -> Severity {
        switch priority {
        case ...2: .fatal
        case 3: .error
        case 4: .warn
        case 5, 6: .info
        default: .debug
        }
    }

    public var record: DVICProtocol.LogRecord {
        DVICProtocol.LogRecord(timestamp: timestamp, severity: severity, text: text)
    }

    /// Parses one JSON line; nil when it is not a journal entry with a cursor.
    public static func parse(line: some Collection<UInt8>, now: Int64) -> JournalEntry? {
        guard let fields = try? JSONDecoder().decode(Fields.self, from: Data(line)), let cursor = fields.cursor?.text else {
            return nil
        }
        let timestamp = fields.realtime?.text.flatMap { Int64($0) }.map { $0 / 1000 } ?? now
        let priority = fields.priority?.text.flatMap { Int($0) } ?? 6
        var message = fields.message?.text ?? ""
        if message.utf8.count > maxTextBytes {
            message = String(decoding: message.utf8.prefix(maxTextBytes), as: UTF8.self)
        }
        var text = message
        if let identifier = (fields.identifier ?? fields.command)?.text, !identifier.isEmpty {
            let pid = fields.pid?.text.map { "[\($0)]" } ?? ""
            text = "\(identifier)\(pid): \(message)"
        }
        return JournalEntry(cursor: cursor, timestamp: timestamp, severity: severity(priority: priority), text: text)
    }

    private struct Fields: Decodable {
        var cursor: Field?
        var realtime: Field?
        var priority: Field?
        var message: Field?
        var identifier: Field?
        var command: Field?
        var pid: Field?

        enum CodingKeys: String, CodingKey {
            case cursor = "__CURSOR"
            case realtime = "__REALTIME_TIMESTAMP"
            case priority = "PRIORITY"
            case message = "MESSAGE"
            case identifier = "SYSLOG_IDENTIFIER"
            case command = "_COMM"
            case pid = "_PID"
        }
    }

    /// journald writes a field as a string, as an array of byte values when it is not valid UTF-8,
    /// as null when it is too large, and as an array of those when the field repeats.
    private struct Field: Decodable {
        var text: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                text = nil
            } else if let string = try? container.decode(String.self) {
                text = string
            } else if let bytes = try? container.decode([UInt8].self) {
                text = String(decoding: bytes, as: UTF8.self)
            } else if let many = try? container.decode([Field].self) {
                text = many.compactMap(\.text).first
            } else {
                text = nil
            }
        }
    }
}
