@testable import DVICLog
import DVICLogFormat
import Foundation
import Testing

@Suite("DVICLog")
struct DVICLogTests {
    @Test("the header describes this process, and records follow it")
    func header() throws {
        let directory = try TemporaryDirectory()
        let before = LogTimestamp.now()
        let log = try DVICLog.open("camera-demo", directory: directory.path)
        let path = try #require(log.path)
        #expect(path.hasPrefix(directory.path + "/dvic_log_"))
        let token = try #require(LogFileName.token(fromFileName: URL(fileURLWithPath: path).lastPathComponent))
        #expect(token.count == 16)
        log.info("ready")
        log.close()
        #expect(log.path == nil)

        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o644)

        let set = try LogFileSet(directory: directory.url)
        #expect(set.files.count == 1)
        let file = try #require(set.files.first)
        let header = try #require(file.header)
        #expect(header.version == 1)
        #expect(header.pid == getpid())
        #expect(header.exe == (try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")))
        #expect(header.argv == CommandLine.arguments)
        #expect(header.user == (getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? ""))
        #expect(header.name == "camera-demo")
        #expect(header.lib == "swift/\(DVICLog.version)")
        #expect(header.prev == nil)
        let started = try #require(LogTimestamp.parse(header.started))
        #expect(started >= before && started <= LogTimestamp.now())
        // Keys in the documented order, one line.
        let firstLine = String(decoding: file.bytes.prefix(while: { $0 != UInt8(ascii: "\n") }), as: UTF8.self)
        #expect(firstLine.hasPrefix(#"{"dvic_log": 1, "pid": "#))
        #expect(file.records.map(\.message) == ["ready"])
        #expect(file.records.first!.timestamp >= started)
    }

    @Test("every level, and messages that need escaping")
    func levels() throws {
        let directory = try TemporaryDirectory()
        let log = try DVICLog.open("levels", directory: directory.path)
        log.trace("t")
        log.debug("d")
        log.info("i")
        log.warn("w\nsecond line")
        log.error("back\\slash \\n")
        log.fatal("f\r")
        log.log(.info, "")
        log.close()
        let records = try #require(LogFileSet(directory: directory.url).files.first).records
        #expect(records.map(\.level) == [.trace, .debug, .info, .warn, .error, .fatal, .info])
        #expect(records.map(\.message) == ["t", "d", "i", "w\nsecond line", "back\\slash \\n", "f\r", ""])
        #expect(records.map(\.timestamp) == records.map(\.timestamp).sorted())
    }

    @Test("DVIC_LOG_DIR and DVIC_LOG_MAX_BYTES are honoured, and arguments win over them")
    func environment() throws {
        let directory = try TemporaryDirectory()
        let other = try directory.subdirectory("other")
        let fromEnvironment = try DVICLog.open(
            "env", directory: nil, maxBytes: nil,
            environment: ["DVIC_LOG_DIR": directory.path, "DVIC_LOG_MAX_BYTES": "300"], standardError: 2,
            clock: { LogTimestamp.now() })
        #expect(fromEnvironment.path?.hasPrefix(directory.path + "/") == true)
        for index in 0..<20 { fromEnvironment.info("record number \(index) of twenty") }
        fromEnvironment.close()
        #expect(try LogFileSet(directory: directory.url).files.count > 3)

        let fromArguments = try DVICLog.open(
            "args", directory: other.path, maxBytes: 1_000_000,
            environment: ["DVIC_LOG_DIR": directory.path, "DVIC_LOG_MAX_BYTES": "300"], standardError: 2,
            clock: { LogTimestamp.now() })
        #expect(fromArguments.path?.hasPrefix(other.path + "/") == true)
        for index in 0..<20 { fromArguments.info("record number \(index) of twenty") }
        fromArguments.close()
        #expect(try LogFileSet(directory: other).files.count == 1)
    }

    @Test("settings: defaults, environment, arguments, bad values")
    func settings() {
        let defaults = DVICLogSettings(directory: nil, maxBytes: nil, environment: [:])
        #expect(defaults.directory == "/tmp" && defaults.maxBytes == 16 * 1024 * 1024)
        let empty = DVICLogSettings(directory: "", maxBytes: 0, environment: ["DVIC_LOG_DIR": "", "DVIC_LOG_MAX_BYTES": "lots"])
        #expect(empty.directory == "/tmp" && empty.maxBytes == 16 * 1024 * 1024)
        let negative = DVICLogSettings(directory: nil, maxBytes: nil, environment: ["DVIC_LOG_MAX_BYTES": "-5"])
        #expect(negative.maxBytes == 16 * 1024 * 1024)
        let environment = DVICLogSettings(directory: nil, maxBytes: nil, environment: ["DVIC_LOG_DIR": "/var/log/demos/", "DVIC_LOG_MAX_BYTES": " 4096 "])
        #expect(environment.directory == "/var/log/demos/" && environment.maxBytes == 4096)
        #expect(environment.path(forFileName: "dvic_log_x") == "/var/log/demos/dvic_log_x")
        let arguments = DVICLogSettings(directory: "/srv", maxBytes: 10, environment: ["DVIC_LOG_DIR": "/x", "DVIC_LOG_MAX_BYTES": "99"])
        #expect(arguments.directory == "/srv" && arguments.maxBytes == 10)
        #expect(arguments.path(forFileName: "dvic_log_x") == "/srv/dvic_log_x")
    }

    @Test("an empty name stands for the program's name")
    func emptyName() throws {
        let directory = try TemporaryDirectory()
        let log = try DVICLog.open("", directory: directory.path)
        log.close()
        let header = try #require(LogFileSet(directory: directory.url).files.first?.header)
        #expect(header.name == ProcessIdentity.programName())
        #expect(!header.name.isEmpty)
        #expect(log.name == header.name)
    }

    @Test("argv is kept only up to 32 KiB in all")
    func argvBudget() {
        let long = String(repeating: "x", count: 10_000)
        #expect(ProcessIdentity.limited(["prog", long, long, long, long]) == ["prog", long, long, long])
        #expect(ProcessIdentity.limited(["a", "b"]) == ["a", "b"])
        #expect(ProcessIdentity.limited([String(repeating: "y", count: 40_000)]) == [])
    }

    @Test("threads writing at once give whole lines only, each thread's in its order")
    func threads() throws {
        let directory = try TemporaryDirectory()
        let log = try DVICLog.open("threads", directory: directory.path)
        let threadCount = 8
        let perThread = 2_000
        runOnThreads(threadCount) { thread in
            for index in 0..<perThread {
                // Lengths vary so that lines cross page and pipe-buffer sizes.
                let padding = String(repeating: "é", count: (index * 37 + thread * 11) % 700)
                log.log(LogLevel.allCases[index % 6], "thread \(thread) record \(index)\nsecond line \\ \(padding)")
            }
        }
        log.close()

        let files = try LogFileSet(directory: directory.url).files
        #expect(files.count == 1)
        let records = try #require(files.first).records
        #expect(records.count == threadCount * perThread)
        #expect(!records.contains { $0.timestamp == LogFileSet.readTime }, "a line that is no record")
        var next = [Int](repeating: 0, count: threadCount)
        for record in records {
            let words = record.message.split(separator: " ")
            guard words.count >= 4, let thread = Int(words[1]), let index = Int(words[3].prefix(while: \.isNumber)) else {
                Issue.record("unexpected message \(record.message.prefix(60))")
                continue
            }
            #expect(index == next[thread])
            #expect(record.level == LogLevel.allCases[index % 6])
            next[thread] = index + 1
        }
        #expect(next == [Int](repeating: perThread, count: threadCount))
        #expect(records.map(\.timestamp) == records.map(\.timestamp).sorted())
    }

    @Test("rotation moves to a new file whose header names the old one as prev")
    func rotation() throws {
        let directory = try TemporaryDirectory()
        let maxBytes = 2_000
        let log = try DVICLog.open("rotating", directory: directory.path, maxBytes: maxBytes)
        var written: [String] = []
        for index in 0..<200 {
            let message = "record \(index) " + String(repeating: "r", count: index % 50)
            log.info(message)
            written.append(message)
        }
        // A record longer than the cap still goes whole into a file of its own.
        let huge = String(repeating: "H", count: 5_000)
        log.warn(huge)
        written.append(huge)
        log.info("after the huge one")
        written.append("after the huge one")
        let lastPath = log.path
        log.close()

        let set = try LogFileSet(directory: directory.url)
        #expect(set.files.count > 10)
        let chain = try #require(set.chain(), "the files form one prev chain")
        let first = try #require(chain.first?.header)
        for file in chain {
            let header = try #require(file.header)
            #expect(header.name == "rotating")
            #expect(header.started == first.started)
            #expect(header.pid == first.pid && header.exe == first.exe && header.argv == first.argv)
            #expect(header.lib == first.lib && header.user == first.user)
            #expect(file.bytes.count <= maxBytes || file.records.count == 1)
            #expect(!file.records.isEmpty)
        }
        #expect(chain.last?.path == lastPath)
        #expect(chain.flatMap(\.records).map(\.message) == written)
        #expect(chain.contains { $0.records.map(\.message) == [huge] })
    }

    @Test("rotation under threads keeps every record exactly once")
    func rotationUnderThreads() throws {
        let directory = try TemporaryDirectory()
        let log = try DVICLog.open("busy", directory: directory.path, maxBytes: 64 * 1024)
        runOnThreads(4) { thread in
            for index in 0..<3_000 {
                log.info("t\(thread) n\(index) " + String(repeating: "z", count: index % 90))
            }
        }
        log.close()
        let set = try LogFileSet(directory: directory.url)
        let chain = try #require(set.chain())
        #expect(chain.count > 5)
        let messages = chain.flatMap(\.records).map { $0.message.split(separator: " ").prefix(2).joined(separator: " ") }
        #expect(messages.count == 12_000)
        #expect(Set(messages).count == 12_000)
        for file in chain {
            #expect(file.bytes.count <= 64 * 1024)
        }
    }

    @Test("an unwritable directory sends records to stderr, with one notice")
    func fallbackToStandardError() throws {
        let directory = try TemporaryDirectory()
        // Tests run as root, who may write anywhere: a regular file used as a directory fails for anyone.
        let notADirectory = directory.url.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: notADirectory)
        let standardError = try directory.standardErrorFile()
        let log = try DVICLog.open(
            "nowhere", directory: notADirectory.path, maxBytes: nil, environment: [:],
            standardError: standardError.descriptor, clock: { 1_795_860_001_000 })
        #expect(log.path == nil)
        log.info("first")
        log.error("second\nline")
        log.close()
        log.warn("after close")
        close(standardError.descriptor)

        let text = try String(contentsOf: standardError.url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 5)
        let notice = String(lines[0])
        #expect(notice.hasPrefix("dvic_log: cannot write \(notADirectory.path)/dvic_log_"))
        #expect(notice.hasSuffix(": Not a directory; logging to stderr"))
        #expect(Array(lines[1...3]) == [
            "2026-11-28T10:00:01.000Z INFO first",
            "2026-11-28T10:00:01.000Z ERROR second\\nline",
            "2026-11-28T10:00:01.000Z WARN after close",
        ])
        #expect(lines[4] == "")
    }

    @Test("a directory that disappears makes rotation fall back, once, without losing a record")
    func fallbackOnRotation() throws {
        let directory = try TemporaryDirectory()
        let logDirectory = try directory.subdirectory("vanishing")
        let standardError = try directory.standardErrorFile()
        let log = try DVICLog.open(
            "vanishing", directory: logDirectory.path, maxBytes: 200, environment: [:],
            standardError: standardError.descriptor, clock: { 1_795_860_001_000 })
        let firstPath = try #require(log.path)
        log.info("into the file")
        let kept = try Data(contentsOf: URL(fileURLWithPath: firstPath))
        try FileManager.default.removeItem(at: logDirectory)
        for index in 0..<5 {
            log.info("record \(index) that no longer fits into the first file")
        }
        #expect(log.path == nil)
        log.close()
        close(standardError.descriptor)

        #expect(String(decoding: kept, as: UTF8.self).hasSuffix(" INFO into the file\n"))
        let lines = try String(contentsOf: standardError.url, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[0].hasPrefix("dvic_log: cannot write \(logDirectory.path)/dvic_log_"))
        #expect(lines[0].hasSuffix(": No such file or directory; logging to stderr"))
        #expect(lines.filter { $0.hasPrefix("dvic_log:") }.count == 1)
        #expect(lines.last == "2026-11-28T10:00:01.000Z INFO record 4 that no longer fits into the first file")
    }

    @Test("a closed stderr pipe does not kill the program")
    func closedPipe() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        close(descriptors[0])
        let log = try DVICLog.open(
            "pipe", directory: "/proc/self/no-such-dir", maxBytes: nil, environment: [:],
            standardError: descriptors[1], clock: { LogTimestamp.now() })
        log.info("into a pipe nobody reads")
        log.close()
        close(descriptors[1])
        // Reaching this line is the test: under the test runner SIGPIPE keeps its default action,
        // which ends the process. The thread's signal mask must be as it was, with nothing pending.
        var mask = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        #expect(sigismember(&mask, SIGPIPE) == 0)
        var pending = sigset_t()
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0)
    }

    @Test("the rotation rule")
    func rotationPolicy() {
        var policy = RotationPolicy(maxBytes: 100)
        policy.startedFile(headerBytes: 60)
        #expect(!policy.shouldRotate(before: 500), "a file takes at least one record")
        policy.wrote(30)
        #expect(!policy.shouldRotate(before: 10))
        #expect(policy.shouldRotate(before: 11))
        policy.startedFile(headerBytes: 60)
        #expect(policy.fileBytes == 60 && policy.recordCount == 0)
    }
}
