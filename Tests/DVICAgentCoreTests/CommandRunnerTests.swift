import DVICProtocol
import Foundation
import NIOPosix
import Testing

@testable import DVICAgentCore

@Suite("Commands: real processes")
struct CommandRunnerTests {
    /// Runs `requests` on a runner and returns every message once all of them exited.
    static func run(
        _ requests: [CommandRequest], configuration: CommandRunner.Configuration = .init(killGrace: .seconds(2), drainGrace: .milliseconds(300)),
        whileRunning: (CommandRunner, MessageCollector) async throws -> Void = { _, _ in }
    ) async throws -> [DVICProtocol.Message] {
        let collector = MessageCollector()
        let runner = CommandRunner(configuration: configuration, logger: testLogger, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, emit: collector.emit)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await runner.run() }
            for request in requests { runner.submit(request) }
            try await whileRunning(runner, collector)
            let done = await eventually(within: 30) {
                await collector.messages.filter { if case .commandExit = $0 { true } else { false } }.count == requests.count
            }
            #expect(done)
            group.cancelAll()
            return await collector.messages
        }
    }

    static func exits(_ messages: [DVICProtocol.Message]) -> [String: CommandExit] {
        var result: [String: CommandExit] = [:]
        for case .commandExit(let exit) in messages { result[exit.commandID] = exit }
        return result
    }

    static func output(_ messages: [DVICProtocol.Message], _ id: String, _ stream: DVICProtocol.OutputStream) -> String {
        var bytes: [UInt8] = []
        for case .commandOutput(let output) in messages where output.commandID == id && output.stream == stream { bytes += output.data }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func shellOutputOrderAndExitCode() async throws {
        let messages = try await Self.run([
            CommandRequest(commandID: "a", mode: .shell, argv: ["for i in $(seq 1 2000); do echo line $i; done; echo oops >&2; exit 7"], timeoutMs: 0, maxOutputBytes: 0),
            CommandRequest(commandID: "b", mode: .argv, argv: ["echo", "hello", "world"], timeoutMs: 0, maxOutputBytes: 0),
        ])
        let exits = Self.exits(messages)
        #expect(exits["a"]?.reason == .exited && exits["a"]?.exitCode == 7)
        #expect(Self.output(messages, "a", .stdout) == (1...2000).map { "line \($0)\n" }.joined())
        #expect(Self.output(messages, "a", .stderr) == "oops\n")
        #expect(Self.output(messages, "b", .stdout) == "hello world\n")
        #expect(exits["b"]?.exitCode == 0)
        // Every output chunk of a command comes before its exit.
        let exitIndex = messages.firstIndex { if case .commandExit(let exit) = $0 { exit.commandID == "a" } else { false } }!
        #expect(!messages[exitIndex...].contains { if case .commandOutput(let output) = $0 { output.commandID == "a" } else { false } })
    }

    @Test func failedToStartAndOutputCap() async throws {
        let messages = try await Self.run([
            CommandRequest(commandID: "missing", mode: .argv, argv: ["/nonexistent/program"], timeoutMs: 0, maxOutputBytes: 0),
            CommandRequest(commandID: "big", mode: .shell, argv: ["head -c 100000 /dev/zero"], timeoutMs: 0, maxOutputBytes: 1000),
        ])
        let exits = Self.exits(messages)
        #expect(exits["missing"]?.reason == .failedToStart)
        #expect(exits["big"]?.exitCode == 0)
        #expect(Self.output(messages, "big", .stdout).utf8.count == 1000)
        #expect(exits["big"]?.message.contains("truncated") == true)
    }

    /// Two sleeps with durations no other test uses, so their processes can be found by name.
    static func uniqueSleeps() -> (String, [String]) {
        let base = Int.random(in: 100_000...900_000)
        return ("sleep \(base) & sleep \(base + 1)", ["sleep \(base)", "sleep \(base + 1)"])
    }

    @Test func timeoutKillsTheGroup() async throws {
        let (line, names) = Self.uniqueSleeps()
        let messages = try await Self.run([
            CommandRequest(commandID: "t", mode: .shell, argv: [line], timeoutMs: 300, maxOutputBytes: 0)
        ])
        let exit = Self.exits(messages)["t"]
        #expect(exit?.reason == .timedOut)
        #expect(exit?.signal == UInt64(SIGTERM))
        #expect(await eventually { Self.live(names).isEmpty })
    }

    @Test func cancelKillsTheWholeGroup() async throws {
        let (line, names) = Self.uniqueSleeps()
        let messages = try await Self.run(
            [CommandRequest(commandID: "c", mode: .shell, argv: ["echo started; " + line], timeoutMs: 0, maxOutputBytes: 0)]
        ) { runner, collector in
            let started = await eventually { Self.output(await collector.messages, "c", .stdout) == "started\n" && Self.live(names).count == 2 }
            #expect(started)
            runner.cancel("c")
        }
        let exit = Self.exits(messages)["c"]
        #expect(exit?.reason == .cancelled)
        #expect(exit?.exitCode == -1)
        // Both sleeps (the background one too) are gone: nothing of the group is left alive.
        #expect(await eventually { Self.live(names).isEmpty })
    }

    @Test func limitQueuesTheRest() async throws {
        var core = CommandRunnerCore(maxParallel: 1)
        let first = CommandRequest(commandID: "1", mode: .argv, argv: ["true"], timeoutMs: 0, maxOutputBytes: 0)
        let second = CommandRequest(commandID: "2", mode: .argv, argv: ["true"], timeoutMs: 0, maxOutputBytes: 0)
        let result1 = core.submit(first)
        #expect(result1 == [.start(first)])
        let result2 = core.submit(second)
        #expect(result2 == [])
        let result3 = core.submit(second)
        #expect(result3 == [])  // repeated
        let result4 = core.cancel("2")
        #expect(result4 == [.finishUnstarted(commandID: "2", reason: .cancelled, message: "cancelled before it started")])
        let result5 = core.submit(second)
        #expect(result5 == [])
        let result6 = core.finished("1")
        #expect(result6 == [.start(second)])
        let result7 = core.cancel("2")
        #expect(result7 == [.kill(commandID: "2")])

        // And for real: two commands with a limit of one run one after the other.
        let messages = try await Self.run(
            [
                CommandRequest(commandID: "x", mode: .shell, argv: ["echo x"], timeoutMs: 0, maxOutputBytes: 0),
                CommandRequest(commandID: "y", mode: .shell, argv: ["echo y"], timeoutMs: 0, maxOutputBytes: 0),
            ], configuration: .init(maxParallel: 1, drainGrace: .milliseconds(300)))
        let order = messages.compactMap { if case .commandExit(let exit) = $0 { exit.commandID } else { nil } }
        #expect(order == ["x", "y"])
    }

    /// Live processes (not zombies) whose command line is one of `names`.
    static func live(_ names: [String]) -> [Int32] {
        processes { _, cmdline, state in names.contains(cmdline) && state != "Z" }
    }

    static func processes(_ matching: (Int32, String, String) -> Bool) -> [Int32] {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let text = String(decoding: cmdline.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            let state = String(stat[stat.index(close, offsetBy: 2)])
            return matching(pid, text, state) ? pid : nil
        } ?? []
    }
}
