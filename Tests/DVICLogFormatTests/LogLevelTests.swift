import DVICLogFormat
import Testing

@Suite("LogLevel")
struct LogLevelTests {
    @Test("order, names and parsing")
    func levels() {
        #expect(LogLevel.allCases == [.trace, .debug, .info, .warn, .error, .fatal])
        #expect(LogLevel.allCases == LogLevel.allCases.sorted())
        #expect(LogLevel.allCases.map(\.name) == ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"])
        for level in LogLevel.allCases {
            #expect(LogLevel(name: level.name) == level)
            #expect(LogLevel(name: level.name.lowercased()) == level)
            #expect(level.description == level.name)
        }
        #expect(LogLevel(name: "warning") == nil)
        #expect(LogLevel.warn > .info)
    }
}
