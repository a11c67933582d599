import DVICLogFormat
import Testing

@Suite("LogRecord")
struct LogRecordTests {
    static let stamp: Int64 = 1_795_860_001_000  // 2026-11-28T10:00:01.000Z

    @Test(
        "escaping",
        arguments: [
            ("plain", "plain"),
            ("", ""),
            ("a\nb", "a\\nb"),
            ("a\rb", "a\\rb"),
            ("back\\slash", "back\\\\slash"),
            ("literal \\n", "literal \\\\n"),
            ("trailing \\", "trailing \\\\"),
            ("\r\n", "\\r\\n"),
            ("tab\tstays", "tab\tstays"),
            ("café 🚀", "café 🚀"),
        ])
    func escaping(message: String, escaped: String) {
        #expect(LogRecord.escape(message) == escaped)
        #expect(LogRecord.unescape(escaped) == message)
    }

    @Test("readers keep unknown escapes and a lone trailing backslash")
    func unknownEscapes() {
        #expect(LogRecord.unescape("\\t\\x\\u0041\\") == "\\t\\x\\u0041\\")
        #expect(LogRecord.unescape("\\\\\\n") == "\\\n")
    }

    @Test("any message round-trips through a line", arguments: [
        "", " ", "  two", "x\n", "\n\n\r\r\\\\", "\\", "\\n\\r\\\\", "mixed \\ \n \r end", "日本語\n🚀",
        String(repeating: "\\n", count: 100),
    ])
    func roundTrip(message: String) throws {
        for level in LogLevel.allCases {
            let record = LogRecord(timestamp: Self.stamp, level: level, message: message)
            let line = record.formattedLine()
            #expect(!line.contains("\n") && !line.contains("\r"))
            #expect(LogRecord.parse(line: line) == record)
            var bytes: [UInt8] = []
            record.appendLine(to: &bytes)
            #expect(bytes.last == UInt8(ascii: "\n"))
            #expect(LogRecord.parse(bytes: bytes.dropLast()) == record)
        }
    }

    @Test("the line format")
    func lineFormat() {
        let record = LogRecord(timestamp: Self.stamp, level: .warn, message: "low\nbattery")
        #expect(record.formattedLine() == "2026-11-28T10:00:01.000Z WARN low\\nbattery")
        let empty = LogRecord(timestamp: Self.stamp, level: .info, message: "")
        #expect(empty.formattedLine() == "2026-11-28T10:00:01.000Z INFO ")
    }

    @Test("a line without the space after an empty message's level still parses")
    func noTrailingSpace() {
        #expect(
            LogRecord.parse(line: "2026-11-28T10:00:01.000Z FATAL")
                == LogRecord(timestamp: Self.stamp, level: .fatal, message: ""))
    }

    @Test("levels are the six upper-case words only", arguments: [
        "INFOX", "info", "Info", "WARNING", "NOTICE", "CRITICAL", "", "INF", "ERR", "FATALE",
    ])
    func badLevels(word: String) {
        #expect(LogRecord.parse(line: "2026-11-28T10:00:01.000Z \(word) message") == nil)
    }
}
