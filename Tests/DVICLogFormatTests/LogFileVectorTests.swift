import DVICLogFormat
import Testing

@Suite("Spec/vectors/logfile/parse")
struct LogFileVectorTests {
    static let vectors = ParseVector.all()

    /// How the file's bytes reach the parser: the result must not depend on it.
    enum Feeding: String, CaseIterable, CustomTestStringConvertible {
        case whole
        case byteByByte
        case chunksOf7
        case chunksOf4096

        var testDescription: String { rawValue }

        func chunks(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
            let size: Int
            switch self {
            case .whole: return [bytes[...]]
            case .byteByByte: size = 1
            case .chunksOf7: size = 7
            case .chunksOf4096: size = 4096
            }
            return stride(from: 0, to: bytes.count, by: size).map { bytes[$0..<min($0 + size, bytes.count)] }
        }
    }

    @Test("there are vectors")
    func vectorsExist() {
        #expect(Self.vectors.count >= 20)
    }

    @Test("every vector", arguments: vectors, Feeding.allCases)
    func vector(_ vector: ParseVector, feeding: Feeding) throws {
        let now = try #require(LogTimestamp.parse(vector.read_time))
        var parser = LogFileParser(
            offset: vector.start_offset ?? 0, maxLineBytes: vector.max_line_bytes ?? LogFileParser.defaultMaxLineBytes)
        var events: [LogFileParser.Event] = []
        for chunk in feeding.chunks(vector.bytes) {
            events += parser.feed(chunk, now: now)
        }
        if vector.finish == true {
            events += parser.finish(now: now)
        }

        var header: LogFileHeader?
        var headerError: String?
        var records: [(LogRecord, Bool)] = []
        for event in events {
            switch event.kind {
            case .header(let found):
                #expect(header == nil && headerError == nil, "a second header")
                header = found
            case .invalidHeader(let error, _):
                #expect(header == nil && headerError == nil, "a second header")
                headerError = error.code.description
            case .record(let record):
                records.append((record, event.endsLine))
            }
        }
        #expect(header == vector.expected.header)
        #expect(headerError == vector.expected.header_error)
        #expect(records.count == vector.expected.records.count, "record count")
        for (index, (actual, expected)) in zip(records, vector.expected.records).enumerated() {
            let expectedRecord = LogRecord(
                timestamp: try #require(LogTimestamp.parse(expected.timestamp)),
                level: try #require(LogLevel(name: expected.level)),
                message: expected.message.text)
            if actual.0 != expectedRecord {
                Issue.record("record \(index): got \(summary(actual.0)), expected \(summary(expectedRecord))")
            }
            #expect(actual.1 == (expected.ends_line ?? true), "record \(index) ends_line")
        }
        #expect(parser.offset == vector.expected.offset)
        #expect(parser.bufferedByteCount == vector.expected.buffered_bytes)

        // Resume offsets never go back, and the last complete line's is the parser's offset.
        let offsets = events.map(\.resumeOffset)
        #expect(offsets == offsets.sorted())
        if let last = events.last(where: \.endsLine), vector.expected.header_error != "lineTooLong" {
            #expect(last.resumeOffset == parser.offset)
        }
    }

    /// A readable stand-in for a record whose message may be a megabyte long.
    private func summary(_ record: LogRecord) -> String {
        let message = record.message.count > 80
            ? "\(record.message.prefix(40).debugDescription)…(\(record.message.utf8.count) bytes)"
            : record.message.debugDescription
        return "\(LogTimestamp.format(record.timestamp)) \(record.level) \(message)"
    }
}
