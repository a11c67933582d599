import DVICLogFormat
import Testing

@Suite("LogFileParser")
struct LogFileParserTests {
    static let now: Int64 = 1_795_867_200_000  // 2026-11-28T12:00:00.000Z
    static let headerLine =
        #"{"dvic_log": 1, "pid": 4242, "exe": "/bin/demo", "argv": ["demo"], "user": "pi", "name": "camera-demo", "started": "2026-11-28T10:00:00.000Z"}"#
        + "\n"

    /// A file of a header and `count` records, and where each line ends.
    static func file(records count: Int) -> (bytes: [UInt8], records: [LogRecord], lineEnds: [Int64]) {
        var bytes = Array(headerLine.utf8)
        var lineEnds = [Int64(bytes.count)]
        var records: [LogRecord] = []
        for index in 0..<count {
            let record = LogRecord(
                timestamp: 1_795_860_000_000 + Int64(index) * 37, level: LogLevel.allCases[index % 6],
                message: "record \(index)" + (index % 3 == 0 ? " with\na newline and \\ backslash" : ""))
            record.appendLine(to: &bytes)
            records.append(record)
            lineEnds.append(Int64(bytes.count))
        }
        return (bytes, records, lineEnds)
    }

    @Test("a line fed byte by byte comes out once, at its newline")
    func byteByByte() {
        let line = Array("2026-11-28T10:00:01.000Z INFO hello\n".utf8)
        var parser = LogFileParser(offset: 500)
        for (index, byte) in line.enumerated() {
            let events = parser.feed([byte], now: Self.now)
            if index < line.count - 1 {
                #expect(events.isEmpty)
                #expect(parser.bufferedByteCount == index + 1)
                #expect(parser.offset == 500)
            } else {
                #expect(events.map(\.record) == [LogRecord(timestamp: 1_795_860_001_000, level: .info, message: "hello")])
                #expect(events.first?.resumeOffset == 500 + Int64(line.count))
            }
        }
        #expect(parser.bufferedByteCount == 0)
        #expect(parser.offset == 500 + Int64(line.count))
    }

    @Test("each event's resume offset is just after its line, and resuming there gives the rest")
    func offsets() {
        let (bytes, records, lineEnds) = Self.file(records: 50)
        var parser = LogFileParser()
        let events = parser.feed(bytes, now: Self.now)
        #expect(events.count == 51)
        #expect(events.first?.header?.name == "camera-demo")
        #expect(events.map(\.resumeOffset) == lineEnds)
        #expect(events.dropFirst().map(\.record) == records)
        #expect(parser.offset == Int64(bytes.count))

        for resumeIndex in [1, 17, 50] {
            let start = lineEnds[resumeIndex - 1]
            var resumed = LogFileParser(offset: start)
            #expect(!resumed.isExpectingHeader)
            let rest = resumed.feed(bytes[Int(start)...], now: Self.now)
            #expect(rest.map(\.record) == records[(resumeIndex - 1)...].map { $0 })
            #expect(rest.map(\.resumeOffset) == Array(lineEnds[resumeIndex...]))
        }
    }

    @Test("chunking does not change the result")
    func chunking() {
        let (bytes, _, _) = Self.file(records: 300)
        let whole = LogFileParser.parse(bytes, now: Self.now)
        var generator = SplitMix64(seed: 7)
        for _ in 0..<20 {
            var parser = LogFileParser()
            var events: [LogFileParser.Event] = []
            var index = 0
            while index < bytes.count {
                let size = Int(generator.next() % 200) + 1
                events += parser.feed(bytes[index..<min(index + size, bytes.count)], now: Self.now)
                index += size
            }
            #expect(events == whole)
        }
    }

    @Test("a 1 MB line comes in pieces within the limit that reassemble exactly")
    func megabyteLine() throws {
        // Multi-byte characters and escapes everywhere, so that cuts must avoid both.
        var generator = SplitMix64(seed: 42)
        let alphabet: [String] = ["a", "é", "日", "🚀", "\n", "\\", "\r", " ", "\\n", "z"]
        var message = ""
        while message.utf8.count < 1_000_000 {
            message += alphabet[Int(generator.next() % UInt64(alphabet.count))]
        }
        let record = LogRecord(timestamp: 1_795_860_001_234, level: .warn, message: message)
        var bytes = Array(Self.headerLine.utf8)
        let lineStart = Int64(bytes.count)
        record.appendLine(to: &bytes)
        let after = LogRecord(timestamp: 1_795_860_002_000, level: .info, message: "after")
        after.appendLine(to: &bytes)

        for chunkSize in [1_000_000_000, 65_536, 4093] {
            var parser = LogFileParser()
            var events: [LogFileParser.Event] = []
            var index = 0
            while index < bytes.count {
                events += parser.feed(bytes[index..<min(index + chunkSize, bytes.count)], now: Self.now)
                index += chunkSize
            }
            let pieces = events.dropFirst().dropLast()
            #expect(pieces.count >= 4)
            #expect(events.last?.record == after)
            var reassembled = ""
            for (number, piece) in pieces.enumerated() {
                let pieceRecord = try #require(piece.record)
                #expect(pieceRecord.timestamp == record.timestamp)
                #expect(pieceRecord.level == record.level)
                #expect(piece.endsLine == (number == pieces.count - 1))
                #expect(piece.resumeOffset == (piece.endsLine ? lineStart + Int64(record.formattedLine().utf8.count) + 1 : lineStart))
                // The bytes each piece took from the line, as the writer escaped them.
                let size = LogRecord.escape(pieceRecord.message).utf8.count + (number == 0 ? 30 : 0)
                #expect(size <= LogFileParser.defaultMaxLineBytes)
                #expect(number == pieces.count - 1 || size >= LogFileParser.defaultMaxLineBytes - 4)
                reassembled += pieceRecord.message
            }
            #expect(reassembled == message, "chunk size \(chunkSize)")
            #expect(!reassembled.unicodeScalars.contains("\u{FFFD}"))
        }
    }

    @Test("reset after truncation reads the new file from its header")
    func truncation() {
        let (first, _, _) = Self.file(records: 10)
        var parser = LogFileParser()
        _ = parser.feed(first, now: Self.now)
        _ = parser.feed(Array("2026-11-28T10:00:01.000Z INFO half".utf8), now: Self.now)
        #expect(parser.offset == Int64(first.count))
        #expect(parser.bufferedByteCount > 0)

        parser.reset()
        #expect(parser.offset == 0)
        #expect(parser.isExpectingHeader)
        #expect(parser.bufferedByteCount == 0)
        let (second, records, lineEnds) = Self.file(records: 3)
        let events = parser.feed(second, now: Self.now)
        #expect(events.first?.header != nil)
        #expect(events.dropFirst().map(\.record) == records)
        #expect(events.map(\.resumeOffset) == lineEnds)
    }

    @Test("reset keeps the line limit")
    func resetKeepsLimit() {
        var parser = LogFileParser(maxLineBytes: 100)
        parser.reset()
        #expect(parser.maxLineBytes == 100)
        #expect(LogFileParser(maxLineBytes: 1).maxLineBytes == LogFileParser.minimumMaxLineBytes)
    }

    @Test("finish delivers a last line without newline, and later bytes start a new line")
    func finish() {
        var parser = LogFileParser(offset: 10)
        #expect(parser.feed(Array("2026-11-28T10:00:01.000Z ERROR crash".utf8), now: Self.now).isEmpty)
        #expect(parser.finish(now: Self.now).map(\.record) == [LogRecord(timestamp: 1_795_860_001_000, level: .error, message: "crash")])
        #expect(parser.offset == 10 + 36)
        #expect(parser.finish(now: Self.now).isEmpty)
        #expect(parser.feed(Array("more\n".utf8), now: Self.now).map(\.record?.message) == ["more"])
    }

    @Test("an invalid header's line is kept for the reader")
    func invalidHeaderLine() {
        let events = LogFileParser.parse(Array("hello world\n".utf8), now: Self.now)
        guard case .invalidHeader(let error, let line) = events.first?.kind else {
            Issue.record("expected an invalid header")
            return
        }
        #expect(error.code == .malformedJSON)
        #expect(line == "hello world")
    }

    @Test("parsing many lines is fast enough for the agent")
    func throughput() {
        let (bytes, _, _) = Self.file(records: 100_000)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            var parser = LogFileParser()
            var count = 0
            var index = 0
            while index < bytes.count {
                count += parser.feed(bytes[index..<min(index + 65_536, bytes.count)], now: Self.now).count
                index += 65_536
            }
            #expect(count == 100_001)
        }
        // Generous even for a debug build on a busy machine; a regression to per-byte work shows.
        #expect(elapsed < .seconds(20))
    }
}
