import DVICLog
import DVICLogFormat
import Foundation
import Logging
import Testing

@Suite("DVICLogHandler")
struct DVICLogHandlerTests {
    struct SampleError: Error, CustomStringConvertible {
        var description: String { "disk on fire" }
    }

    @Test("swift-log levels map onto the file's six")
    func levels() throws {
        let directory = try TemporaryDirectory()
        let log = try DVICLog.open("handler", directory: directory.path)
        var logger = Logger(label: "demo") { label in DVICLogHandler(label: label, log: log) }
        logger.logLevel = .trace
        for level in Logger.Level.allCases {
            logger.log(level: level, "at \(level.rawValue)")
        }
        log.close()
        let records = try #require(LogFileSet(directory: directory.url).files.first).records
        #expect(records.map(\.level) == [.trace, .debug, .info, .info, .warn, .error, .fatal])
        #expect(records.map(\.message) == Logger.Level.allCases.map { "at \($0.rawValue)" })
        #expect(DVICLogHandler.level(for: .notice) == .info)
        #expect(DVICLogHandler.level(for: .warning) == .warn)
        #expect(DVICLogHandler.level(for: .critical) == .fatal)
    }

    @Test("the handler's level filters, info by default as in swift-log")
    func filtering() throws {
        let directory = try TemporaryDirectory()
        let log = try DVICLog.open("handler", directory: directory.path)
        let logger = Logger(label: "demo") { label in DVICLogHandler(label: label, log: log) }
        logger.debug("hidden")
        logger.info("shown")
        log.close()
        let records = try #require(LogFileSet(directory: directory.url).files.first).records
        #expect(records.map(\.message) == ["shown"])
    }

    /// Values print as swift-log prints them (an array as `["a", "b"]`).
    @Test("metadata is appended as key=value in key order; the call site wins, then the handler, then the provider")
    func metadata() throws {
        let directory = try TemporaryDirectory()
        let log = try DVICLog.open("handler", directory: directory.path)
        let provider = Logger.MetadataProvider { ["trace": "abc", "shared": "from-provider"] }
        var logger = Logger(label: "demo") { label in
            DVICLogHandler(label: label, log: log, metadataProvider: provider)
        }
        logger[metadataKey: "camera"] = "front"
        logger[metadataKey: "shared"] = "from-handler"
        logger.info("frame", metadata: ["fps": "30", "shared": "from-call", "list": ["a", "b"]])
        logger.info("plain")
        logger.error("failed", error: SampleError())
        #expect(logger[metadataKey: "camera"] == "front")
        log.close()
        let messages = try #require(LogFileSet(directory: directory.url).files.first).records.map(\.message)
        #expect(messages == [
            #"frame camera=front fps=30 list=["a", "b"] shared=from-call trace=abc"#,
            "plain camera=front shared=from-handler trace=abc",
            "failed camera=front shared=from-handler trace=abc error=disk on fire",
        ])
    }

    @Test("copies of a logger keep their own metadata and level")
    func valueSemantics() throws {
        let directory = try TemporaryDirectory()
        let log = try DVICLog.open("handler", directory: directory.path)
        var first = Logger(label: "one") { label in DVICLogHandler(label: label, log: log) }
        var second = first
        first[metadataKey: "who"] = "first"
        second.logLevel = .error
        first.info("a")
        second.info("dropped")
        second.error("b")
        log.close()
        let messages = try #require(LogFileSet(directory: directory.url).files.first).records.map(\.message)
        #expect(messages == ["a who=first", "b"])
    }

    @Test("bootstrap makes every new Logger write to the demo log")
    func bootstrap() throws {
        // swift-log takes one bootstrap per process; this is the only test that makes it.
        let directory = try TemporaryDirectory()
        let log = try DVICLogHandler.bootstrap("bootstrapped", directory: directory.path, logLevel: .debug)
        let logger = Logger(label: "anywhere")
        logger.debug("through swift-log", metadata: ["k": "v"])
        log.close()
        let file = try #require(LogFileSet(directory: directory.url).files.first)
        #expect(file.header?.name == "bootstrapped")
        #expect(file.records.map(\.message) == ["through swift-log k=v"])
        #expect(file.records.map(\.level) == [.debug])
    }
}
