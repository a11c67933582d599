#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns the bytes of a demo log file, fed in chunks as they are read, into its header and records.
///
/// A value-type core with no I/O: the agent reads the file and feeds what it read, together with
/// the time it read it (stamped on lines that are not records). The parser
/// - reads the first line as the header (only when it starts at offset 0),
/// - keeps a partial last line until its newline arrives,
/// - drops one carriage return before a newline (CRLF files),
/// - keeps a line that does not match the record grammar whole, as an INFO record,
/// - delivers a line longer than `maxLineBytes` in pieces of at most that many bytes, never
///   cutting a UTF-8 sequence or an escape sequence: the first piece is parsed as usual and the
///   others become records with its timestamp and level,
/// - and says, with each event, from which offset reading must resume once that event is safely
///   stored, so that the agent can persist offsets only after the server acknowledges.
public struct LogFileParser: Sendable {
    /// 256 KiB: the longest line delivered as one record.
    public static let defaultMaxLineBytes = 262_144
    /// The smallest allowed limit: a piece must hold a record's timestamp and level.
    public static let minimumMaxLineBytes = 64

    /// The longest line content (without newline) delivered as one record.
    public let maxLineBytes: Int

    /// The offset just after the last complete line consumed: where a new parser would resume.
    public private(set) var offset: Int64

    /// Whether the next line is the file's first, to be read as its header.
    public private(set) var isExpectingHeader: Bool

    /// The start of the unfinished line, kept until its newline arrives or it grows past the limit.
    private var buffer: [UInt8] = []
    /// How many leading bytes of `buffer` are known to hold no newline, so that a line fed byte by
    /// byte is scanned once rather than once per byte.
    private var scannedCount = 0
    /// Set while a line longer than the limit is being delivered in pieces.
    private var split: Split?
    /// Bytes of the current line already delivered as pieces.
    private var deliveredInLine: Int64 = 0

    private struct Split: Sendable {
        var timestamp: Int64
        var level: LogLevel
        /// False when the first piece did not match the grammar: the rest is then kept literally too.
        var decodesEscapes: Bool
        /// An over-long first line is no header; its pieces are skipped.
        var isHeader: Bool
    }

    /// - Parameters:
    ///   - offset: Where in the file the first fed byte sits. At 0 the first line is the header;
    ///     elsewhere (resuming from a persisted offset) every line is a record.
    ///   - maxLineBytes: The limit beyond which a line is delivered in pieces (at least 64).
    public init(offset: Int64 = 0, maxLineBytes: Int = LogFileParser.defaultMaxLineBytes) {
        self.offset = offset
        self.maxLineBytes = max(maxLineBytes, Self.minimumMaxLineBytes)
        self.isExpectingHeader = offset == 0
    }

    /// Bytes read but not yet delivered: the part of an unfinished line still held.
    public var bufferedByteCount: Int { buffer.count }

    /// Parses a whole file's bytes at once; a last line without a newline counts as complete.
    public static func parse(
        _ bytes: some Collection<UInt8>, now: Int64, maxLineBytes: Int = LogFileParser.defaultMaxLineBytes
    ) -> [Event] {
        var parser = LogFileParser(maxLineBytes: maxLineBytes)
        return parser.feed(bytes, now: now) + parser.finish(now: now)
    }

    /// Consumes the next bytes of the file and returns what they complete, in file order.
    ///
    /// - Parameter now: When these bytes were read (milliseconds since the epoch), stamped on lines
    ///   that are not records.
    public mutating func feed(_ chunk: some Collection<UInt8>, now: Int64) -> [Event] {
        var events: [Event] = []
        if buffer.isEmpty {
            // The usual case on the agent's hot path: work on the read buffer itself, keep only its tail.
            let done: Bool? = chunk.withContiguousStorageIfAvailable { bytes in
                let consumed = process(bytes, now: now, into: &events)
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[consumed...]))
                return true
            }
            if done != nil { return events }
        }
        var pending: [UInt8] = []
        swap(&pending, &buffer)
        pending.append(contentsOf: chunk)
        let consumed = pending.withUnsafeBufferPointer { process($0, now: now, into: &events) }
        pending.removeSubrange(0..<consumed)
        buffer = pending
        return events
    }

    /// Delivers a last line that has no newline, as when the demo has exited and the file ends.
    ///
    /// Bytes fed afterwards start a new line.
    public mutating func finish(now: Int64) -> [Event] {
        guard !buffer.isEmpty else { return [] }
        var events: [Event] = []
        let pending = buffer
        buffer = []
        scannedCount = 0
        pending.withUnsafeBufferPointer { bytes in
            deliverLine(bytes, start: 0, lineEnd: bytes.count, rawEnd: bytes.count, now: now, into: &events)
        }
        return events
    }

    /// Starts over at offset 0, expecting a header: for a file that was truncated.
    public mutating func reset() {
        self = LogFileParser(offset: 0, maxLineBytes: maxLineBytes)
    }

    // MARK: - Lines

    /// Delivers every complete line of `bytes` and the pieces of an over-long unfinished one;
    /// returns how many leading bytes are done with.
    private mutating func process(_ bytes: UnsafeBufferPointer<UInt8>, now: Int64, into events: inout [Event]) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var start = 0
        var searchFrom = scannedCount
        while searchFrom < bytes.count,
            let found = memchr(base + searchFrom, Int32(UInt8(ascii: "\n")), bytes.count - searchFrom)
        {
            let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            deliverLine(bytes, start: start, lineEnd: newline, rawEnd: newline + 1, now: now, into: &events)
            start = newline + 1
            searchFrom = start
        }
        // One more byte than the limit may be a carriage return that a newline will strip, so only
        // a longer tail is certainly over-long. The cut depends on the bytes alone, so pieces come
        // out the same however the file was chunked.
        while bytes.count - start > maxLineBytes + 1 {
            let cut = cutPoint(UnsafeBufferPointer(rebasing: bytes[start...]))
            deliverPiece(UnsafeBufferPointer(rebasing: bytes[start..<(start + cut)]), endsLine: false, now: now, into: &events)
            deliveredInLine += Int64(cut)
            start += cut
        }
        scannedCount = bytes.count - start
        return start
    }

    /// Delivers the line `bytes[start..<lineEnd]` whose terminator ends at `rawEnd`.
    private mutating func deliverLine(
        _ bytes: UnsafeBufferPointer<UInt8>, start: Int, lineEnd: Int, rawEnd: Int, now: Int64,
        into events: inout [Event]
    ) {
        var start = start
        var end = lineEnd
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        }
        while end - start > maxLineBytes {
            let cut = cutPoint(UnsafeBufferPointer(rebasing: bytes[start..<end]))
            deliverPiece(UnsafeBufferPointer(rebasing: bytes[start..<(start + cut)]), endsLine: false, now: now, into: &events)
            deliveredInLine += Int64(cut)
            start += cut
        }
        offset += deliveredInLine + Int64(rawEnd - start)
        deliveredInLine = 0
        deliverPiece(UnsafeBufferPointer(rebasing: bytes[start..<end]), endsLine: true, now: now, into: &events)
    }

    /// Where to end the next piece of an over-long line (`piece.count > maxLineBytes`).
    private func cutPoint(_ piece: UnsafeBufferPointer<UInt8>) -> Int {
        var cut = maxLineBytes
        // Back up to the lead byte of a UTF-8 sequence that the limit would cut. More than three
        // continuation bytes are no valid UTF-8 anyway, so the limit stands then.
        var steps = 0
        while steps < 3, piece[cut] & 0xC0 == 0x80 {
            cut -= 1
            steps += 1
        }
        if piece[cut] & 0xC0 == 0x80 {
            cut = maxLineBytes
        }
        // Each piece starts on an escape boundary, and so does the byte after any non-backslash,
        // so an odd run of backslashes before the cut means the last one opens an escape.
        var run = 0
        var index = cut - 1
        while index >= 0, piece[index] == UInt8(ascii: "\\") {
            run += 1
            index -= 1
        }
        if run % 2 == 1 {
            cut -= 1
        }
        return cut
    }

    /// Turns one line, or one piece of an over-long line, into its event. `offset` already points
    /// past the line when `endsLine` is set.
    private mutating func deliverPiece(
        _ piece: UnsafeBufferPointer<UInt8>, endsLine: Bool, now: Int64, into events: inout [Event]
    ) {
        // A piece that does not end its line is not safely stored until the rest is: resuming
        // there would cut the line, so resume at the line's start (a repeat, never a loss).
        let resumeOffset = offset
        if let current = split {
            if endsLine { split = nil }
            if current.isHeader { return }
            let message =
                current.decodesEscapes
                ? LogRecord.unescape(bytes: piece) : String(decoding: piece, as: UTF8.self)
            let record = LogRecord(timestamp: current.timestamp, level: current.level, message: message)
            events.append(Event(kind: .record(record), resumeOffset: resumeOffset, endsLine: endsLine))
            return
        }
        if isExpectingHeader {
            isExpectingHeader = false
            let line = String(decoding: piece, as: UTF8.self)
            guard endsLine else {
                split = Split(timestamp: now, level: .info, decodesEscapes: false, isHeader: true)
                let error = LogFileHeaderError(
                    code: .lineTooLong, message: "the first line is longer than \(maxLineBytes) bytes")
                events.append(Event(kind: .invalidHeader(error, line: line), resumeOffset: resumeOffset, endsLine: false))
                return
            }
            let kind: Event.Kind
            do throws(LogFileHeaderError) {
                kind = .header(try LogFileHeader.parse(bytes: piece))
            } catch {
                kind = .invalidHeader(error, line: line)
            }
            events.append(Event(kind: kind, resumeOffset: resumeOffset, endsLine: true))
            return
        }
        let record: LogRecord
        if let (timestamp, level, messageStart) = LogRecord.parsePrefix(piece) {
            let message = LogRecord.unescape(bytes: UnsafeBufferPointer(rebasing: piece[messageStart...]))
            record = LogRecord(timestamp: timestamp, level: level, message: message)
            if !endsLine {
                split = Split(timestamp: timestamp, level: level, decodesEscapes: true, isHeader: false)
            }
        } else {
            record = LogRecord(timestamp: now, level: .info, message: String(decoding: piece, as: UTF8.self))
            if !endsLine {
                split = Split(timestamp: now, level: .info, decodesEscapes: false, isHeader: false)
            }
        }
        events.append(Event(kind: .record(record), resumeOffset: resumeOffset, endsLine: endsLine))
    }
}
