/// One record of a demo log file: `<timestamp> <LEVEL> <message>`.
///
/// The message is held decoded (a real newline, not `\n`); `appendLine(to:)` escapes it and
/// `parse(line:)` decodes it.
public struct LogRecord: Sendable, Hashable {
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64
    public var level: LogLevel
    public var message: String

    public init(timestamp: Int64, level: LogLevel, message: String) {
        self.timestamp = timestamp
        self.level = level
        self.message = message
    }

    /// The record as a line of the file, without its terminating newline.
    public func formattedLine() -> String {
        var bytes: [UInt8] = []
        appendLine(to: &bytes)
        bytes.removeLast()
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the record as a line of the file, newline included, so that a writer can hand
    /// the bytes to a single `write()`.
    ///
    /// The space after the level is written even for an empty message: one grammar for every
    /// writer, and a reader needs no lookahead.
    public func appendLine(to bytes: inout [UInt8]) {
        LogTimestamp.append(timestamp, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        let name = level.nameBytes
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: " "))
        Self.appendEscaped(message, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// Parses one line (without its newline; a final carriage return is part of the message).
    ///
    /// Returns nil when the line does not follow the record grammar; the file parser then keeps
    /// it whole as an INFO record stamped with the time it was read.
    public static func parse(line: some StringProtocol) -> LogRecord? {
        var line = String(line)
        return line.withUTF8 { parse(bytes: $0) }
    }

    /// Parses one line given as bytes; invalid UTF-8 in the message is repaired with U+FFFD.
    public static func parse(bytes line: some Collection<UInt8>) -> LogRecord? {
        if let record = line.withContiguousStorageIfAvailable({ parse(bytes: $0) }) {
            return record
        }
        return Array(line).withUnsafeBufferPointer { parse(bytes: $0) }
    }

    static func parse(bytes line: UnsafeBufferPointer<UInt8>) -> LogRecord? {
        guard let (timestamp, level, messageStart) = parsePrefix(line) else { return nil }
        let message = UnsafeBufferPointer(rebasing: line[messageStart...])
        return LogRecord(timestamp: timestamp, level: level, message: unescape(bytes: message))
    }

    /// Reads `<timestamp> <LEVEL>` and the single space after it, and returns where the message starts.
    ///
    /// The space after the level may be missing only when nothing follows: some writers drop it for
    /// an empty message, and `INFOX` must not read as `INFO`.
    static func parsePrefix(_ line: UnsafeBufferPointer<UInt8>) -> (Int64, LogLevel, Int)? {
        let stampEnd = LogTimestamp.recordLength
        guard line.count >= stampEnd + 5, line[stampEnd] == UInt8(ascii: " "),
            let timestamp = LogTimestamp.parseRecordForm(UnsafeBufferPointer(rebasing: line[..<stampEnd]))
        else { return nil }
        let levelStart = stampEnd + 1
        var levelEnd = levelStart
        while levelEnd < line.count, levelEnd - levelStart < 6, line[levelEnd] != UInt8(ascii: " ") {
            levelEnd += 1
        }
        guard let level = LogLevel.match(UnsafeBufferPointer(rebasing: line[levelStart..<levelEnd])) else {
            return nil
        }
        if levelEnd == line.count {
            return (timestamp, level, levelEnd)
        }
        guard line[levelEnd] == UInt8(ascii: " ") else { return nil }
        return (timestamp, level, levelEnd + 1)
    }
}

extension LogRecord: CustomStringConvertible {
    public var description: String { formattedLine() }
}
