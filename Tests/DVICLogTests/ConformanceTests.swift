import DVICLog
import DVICLogFormat
import Foundation
import Testing

/// Spec/logfile.md §8: every library writes `Spec/vectors/logfile/conformance.json` into a log
/// named `conformance-<lang>`, and the Swift parser, the agent's reader, must read each file back
/// to exactly those records.
@Suite("Cross-language conformance")
struct ConformanceTests {
    /// The languages `libraries/conformance/run-writers` writes (Spec/logfile.md §8).
    static let scriptLanguages = ["python", "c", "cpp", "node", "java"]

    struct Vector: Decodable {
        struct Record: Decodable {
            var level: String
            var message: String?
            var `repeat`: String?
            var times: Int?
        }
        var records: [Record]
    }

    static let repositoryRoot = RepositoryRoot.url()

    static func expectedRecords() throws -> [(LogLevel, String)] {
        let url = repositoryRoot.appendingPathComponent("Spec/vectors/logfile/conformance.json")
        let vector = try JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
        return try vector.records.map { record in
            let level = try #require(LogLevel(name: record.level), "level \(record.level)")
            if let message = record.message {
                return (level, message)
            }
            let unit = try #require(record.repeat, "a record without message or repeat")
            return (level, String(repeating: unit, count: try #require(record.times)))
        }
    }

    /// Writes the vector with DVICLog into `directory`, as the other languages' drivers do.
    static func writeSwift(into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let log = try DVICLog.open("conformance-swift", directory: directory.path)
        for (level, message) in try expectedRecords() {
            log.log(level, message)
        }
        log.close()
    }

    /// Reads `directory`'s one log file with `LogFileParser` and checks it against the vector.
    static func check(language: String, directory: URL) throws {
        let files = try LogFileSet(directory: directory).files
        try #require(files.count == 1, "\(language): expected one log file in \(directory.path), found \(files.count)")
        let file = files[0]
        let header = try #require(file.header, "\(language): no valid header in \(file.path)")
        #expect(header.name == "conformance-\(language)", "\(language)")
        #expect(header.prev == nil, "\(language): the file was rotated")
        #expect(header.pid > 0, "\(language)")
        #expect(header.startedMilliseconds != nil, "\(language): started \(header.started)")
        #expect(file.bytes.last == UInt8(ascii: "\n"), "\(language): the file does not end with a newline")

        let expected = try expectedRecords()
        let splitLines = file.events.filter { !$0.endsLine }.count
        #expect(splitLines == 0, "\(language): a line was split")
        let records = file.records
        #expect(records.count == expected.count, "\(language): \(records.count) records, expected \(expected.count)")
        for (index, (record, (level, message))) in zip(records, expected).enumerated() {
            #expect(record.level == level, "\(language) record \(index + 1): level")
            if record.message != message {
                Issue.record(
                    "\(language) record \(index + 1): got \(record.message.prefix(80).debugDescription) (\(record.message.utf8.count) bytes), expected \(message.prefix(80).debugDescription) (\(message.utf8.count) bytes)"
                )
            }
            #expect(record.timestamp != LogFileSet.readTime, "\(language) record \(index + 1) is a line that is no record")
            #expect(record.timestamp >= header.startedMilliseconds ?? 0, "\(language) record \(index + 1): before started")
        }
        #expect(records.map(\.timestamp) == records.map(\.timestamp).sorted(), "\(language): time goes backwards")
    }

    @Test("the Swift writer's file reads back to the conformance records")
    func swiftWriter() throws {
        let out = try TemporaryDirectory()
        let directory = out.url.appendingPathComponent("swift")
        try Self.writeSwift(into: directory)
        try Self.check(language: "swift", directory: directory)
    }

    /// Runs the other libraries' writers through `libraries/conformance/run-writers`, which also
    /// validates every header in OUTDIR (the Swift one included) against the JSON schema. A missing
    /// or failing script fails this test: it is the cross-language check, not an optional extra.
    @Test("every library's file reads back to the conformance records", .timeLimit(.minutes(20)))
    func everyLanguage() async throws {
        let script = Self.repositoryRoot.appendingPathComponent("libraries/conformance/run-writers")
        try #require(FileManager.default.fileExists(atPath: script.path), "\(script.path) is missing")
        let out = try TemporaryDirectory()
        // Written first, so that run-writers' schema check covers the Swift header too.
        try Self.writeSwift(into: out.url.appendingPathComponent("swift"))

        // Through bash, so that a lost executable bit does not matter.
        let run = try await ChildProcess.run(
            "/bin/bash", arguments: [script.path, out.path], directory: Self.repositoryRoot, timeout: .seconds(1_080))
        try #require(run.status == 0, "run-writers exited with \(run.status):\n\(run.output)")

        for language in Self.scriptLanguages + ["swift"] {
            try Self.check(language: language, directory: out.url.appendingPathComponent(language))
        }
    }
}
