/// The severity of one record, in the order the log-file format defines them.
///
/// The raw values give the order (`trace < … < fatal`) so that a reader can filter with `>=`.
public enum LogLevel: Int, Sendable, Hashable, CaseIterable, Comparable {
    case trace = 0
    case debug = 1
    case info = 2
    case warn = 3
    case error = 4
    case fatal = 5

    /// The word written in a record line: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL`.
    public var name: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        case .fatal: "FATAL"
        }
    }

    /// Reads a level name in any letter case (`"warn"`, `"WARN"`), as people and JSON documents write it.
    ///
    /// Record lines are stricter: `LogRecord.parse(line:)` takes only the upper-case words.
    public init?(name: some StringProtocol) {
        switch name.uppercased() {
        case "TRACE": self = .trace
        case "DEBUG": self = .debug
        case "INFO": self = .info
        case "WARN": self = .warn
        case "ERROR": self = .error
        case "FATAL": self = .fatal
        default: return nil
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

extension LogLevel: CustomStringConvertible {
    public var description: String { name }
}

extension LogLevel {
    /// The level word as bytes, without allocating: the writer and the parser are both on hot paths.
    @usableFromInline
    var nameBytes: StaticString {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        case .fatal: "FATAL"
        }
    }

    /// Matches the exact upper-case level word that fills `bytes`; the record grammar allows nothing else.
    static func match(_ bytes: UnsafeBufferPointer<UInt8>) -> LogLevel? {
        // Dispatch on length and first letter, then compare the rest: cheaper than building a String per line.
        switch bytes.count {
        case 4:
            if bytes[0] == UInt8(ascii: "I"), bytes[1] == UInt8(ascii: "N"), bytes[2] == UInt8(ascii: "F"),
                bytes[3] == UInt8(ascii: "O")
            {
                return .info
            }
            if bytes[0] == UInt8(ascii: "W"), bytes[1] == UInt8(ascii: "A"), bytes[2] == UInt8(ascii: "R"),
                bytes[3] == UInt8(ascii: "N")
            {
                return .warn
            }
            return nil
        case 5:
            let candidate: LogLevel
            switch bytes[0] {
            case UInt8(ascii: "T"): candidate = .trace
            case UInt8(ascii: "D"): candidate = .debug
            case UInt8(ascii: "E"): candidate = .error
            case UInt8(ascii: "F"): candidate = .fatal
            default: return nil
            }
            let expected = candidate.nameBytes
            for index in 1..<5 where bytes[index] != expected.utf8Start[index] {
                return nil
            }
            return candidate
        default:
            return nil
        }
    }
}
