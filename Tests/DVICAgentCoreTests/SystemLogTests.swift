import DVICProtocol
import Foundation
import NIOPosix
import Testing

@testable import DVICAgentCore

@Suite("System logs and the Docker Engine API")
struct SystemLogTests {
    @Test func journalEntries() {
        let line = #"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1764324000123456","PRIORITY":"3","MESSAGE":"disk failing","SYSLOG_IDENTIFIER":"kernel"}"#
        let entry = JournalEntry.parse(line: Array(line.utf8), now: 0)
        #expect(entry == JournalEntry(cursor: "s=1;i=2", timestamp: 1_764_324_000_123, severity: .error, text: "kernel: disk failing"))
        let binary = #"{"__CURSOR":"c","MESSAGE":[104,105],"_COMM":"sshd","_PID":"42","PRIORITY":"6"}"#
        #expect(JournalEntry.parse(line: Array(binary.utf8), now: 7)?.text == "sshd[42]: hi")
        #expect(JournalEntry.parse(line: Array(binary.utf8), now: 7)?.timestamp == 7)
        #expect(JournalEntry.parse(line: Array(#"{"MESSAGE":"no cursor"}"#.utf8), now: 0) == nil)
        #expect(JournalEntry.parse(line: Array("not json".utf8), now: 0) == nil)
        #expect([0, 2, 3, 4, 5, 6, 7].map(JournalEntry.severity(priority:)) == [.fatal, .fatal, .error, .warn, .info, .info, .debug])
    }

    @Test func journalFollowerResumesAfterItsCursor() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let script = directory.file("journalctl")
        try directory.write("journalctl", """
            #!/bin/sh
            echo "$@" > \(directory.file("args"))
            printf '%s\\n' '{"__CURSOR":"c1","__REALTIME_TIMESTAMP":"1764324000000000","PRIORITY":"4","MESSAGE":"first","SYSLOG_IDENTIFIER":"demo"}'
            printf '%s\\n' '{"__CURSOR":"c2","__REALTIME_TIMESTAMP":"1764324001000000","PRIORITY":"6","MESSAGE":"second","SYSLOG_IDENTIFIER":"demo"}'
            exec sleep 1000

            """)
        chmod(script, 0o755)
        let follower = JournalFollower(executable: script, units: ["ssh.service"], logger: testLogger, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)

        func collect(_ resume: SourceResume) async -> [LogChunk] {
            let box = ChunkBox()
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await follower.run(resume: resume) { await box.add($0) } }
                _ = await eventually { await box.records.count >= 2 }
                group.cancelAll()
            }
            return await box.chunks
        }

        let first = await collect(.fresh)
        #expect(first.flatMap(\.records).map(\.text) == ["demo: first", "demo: second"])
        #expect(first.first?.firstSeq == 1)
        #expect(first.last?.checkpoint?.position == "c2")
        #expect(first.last?.checkpoint?.seq == 2)
        #expect(first.first?.records.first?.severity == .warn)
        let args = try String(contentsOfFile: directory.file("args"), encoding: .utf8)
        #expect(args.contains("-f -o json --no-pager -n 0 -u ssh.service"))

        let again = await collect(SourceResume(checkpoint: SourceCheckpoint(seq: 2, position: "c2"), lastSeq: 2))
        #expect(again.first?.firstSeq == 3)
        #expect(try String(contentsOfFile: directory.file("args"), encoding: .utf8).contains("--after-cursor=c2"))

        // No journalctl: the follower ends at once.
        let missing = JournalFollower(executable: "/nonexistent/journalctl", logger: testLogger, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        await missing.run(resume: .fresh) { _ in }
    }

    @Test func plainLogFiles() async throws {
        let directory = TemporaryDirectory()
        let state = TemporaryDirectory()
        defer {
            directory.remove()
            state.remove()
        }
        let spool = try Spool(configuration: Spool.Configuration(directory: state.path, synchronizes: false), logger: testLogger)
        let runtime = AgentRuntime(configuration: AgentConfiguration(), spool: spool, logger: testLogger)
        let files = PlainLogFiles(runtime: runtime)
        try directory.write("app.log", "2026-11-28T10:00:00.000Z ERROR looks like a record\nplain line\r\npartial")
        let result = await files.poll(paths: [directory.file("app.log")], now: 99)
        let records = result.chunks.flatMap(\.records)
        #expect(records.map(\.text) == ["2026-11-28T10:00:00.000Z ERROR looks like a record", "plain line"])
        #expect(records.allSatisfy { $0.severity == .info && $0.timestamp == 99 })
        #expect(result.chunks.first?.info.key == "file:\(directory.file("app.log"))")
        #expect(result.chunks.first?.info.source == .file)
    }

    @Test func httpResponses() {
        let plain = HTTPResponse.parse(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]".utf8))
        #expect(plain?.status == 200 && plain?.body == Array("[]".utf8) && plain?.headers["content-type"] == "application/json")
        let chunked = HTTPResponse.parse(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n".utf8))
        #expect(chunked?.body == Array("Wikipedia".utf8))
        #expect(HTTPResponse.parse(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort".utf8)) == nil)
        #expect(HTTPResponse.parse(Array("garbage".utf8)) == nil)
    }

    @Test func dockerDocuments() throws {
        let list = try DockerEngine.parseList(Array("""
            [{"Id":"abc123def4567890","Names":["/camera"],"Image":"demo:1","State":"running","Status":"Up 2 hours"},
             {"Id":"fff","Names":[],"State":"exited"}]
            """.utf8))
        #expect(list.map(\.name) == ["camera", "fff"])
        #expect(list[0].image == "demo:1" && list[0].state == "running" && list[1].image == "")
        #expect(DockerEngine.parsePID(Array(#"{"Id":"x","State":{"Status":"running","Pid":4242}}"#.utf8)) == 4242)
        let usage = DockerEngine.parseStats(Array("""
            {"cpu_stats":{"cpu_usage":{"total_usage":5000},"system_cpu_usage":100000,"online_cpus":4},
             "memory_stats":{"usage":1000000,"stats":{"inactive_file":200000}}}
            """.utf8))
        #expect(usage == DockerEngine.Usage(containerCPU: 5000, systemCPU: 100_000, onlineCPUs: 4, memoryBytes: 800_000))
    }
}

actor ChunkBox {
    var chunks: [LogChunk] = []
    var records: [DVICProtocol.LogRecord] { chunks.flatMap(\.records) }
    func add(_ chunk: LogChunk) { chunks.append(chunk) }
}
