import DVICLogFormat
import DVICProtocol
import Foundation
import Testing

@testable import DVICAgentCore

/// A log directory, a spool and a watcher over them, as the agent's log loop wires them.
final class WatcherHarness {
    let logs = TemporaryDirectory("dvic-logs")
    let state = TemporaryDirectory("dvic-state")
    var spool: Spool
    var watcher: LogDirectoryWatcher
    let probe = ProcessProbe()

    init(maxLineBytes: Int = 262_144) throws {
        spool = try Spool(configuration: Spool.Configuration(directory: state.file("spool"), synchronizes: false), logger: testLogger)
        watcher = LogDirectoryWatcher(configuration: LogDirectoryWatcher.Configuration(directory: logs.path, maxLineBytes: maxLineBytes), resume: { _ in .fresh }, probe: { _ in nil })
        restart(maxLineBytes: maxLineBytes)
    }

    /// A new spool and watcher over the same directories, as after the agent restarted.
    func restart(maxLineBytes: Int = 262_144) {
        spool = try! Spool(configuration: Spool.Configuration(directory: state.file("spool"), synchronizes: false), logger: testLogger)
        let spool = self.spool
        let probe = self.probe
        watcher = LogDirectoryWatcher(
            configuration: LogDirectoryWatcher.Configuration(directory: logs.path, maxLineBytes: maxLineBytes),
            resume: { spool.resume(for: $0) }, probe: { probe.start(of: $0) })
    }

    /// Polls until nothing more is pending; spools and returns what was read.
    @discardableResult
    func poll() async throws -> [LogChunk] {
        var chunks: [LogChunk] = []
        var more = true
        while more {
            let result = await watcher.poll(now: WallClock.milliseconds())
            for info in result.updatedStreams { spool.register(info) }
            for chunk in result.chunks { try spool.append(chunk) }
            spool.markGone(result.goneKeys)
            chunks += result.chunks
            more = result.more
        }
        return chunks
    }

    /// Every record the spool would send to a server that holds `resume`, as (seq, text).
    func delivered(resume: [String: UInt64] = [:]) -> [String: [(UInt64, DVICProtocol.LogRecord)]] {
        spool.beginDelivery(resume: resume)
        var result: [String: [(UInt64, DVICProtocol.LogRecord)]] = [:]
        while true {
            let deliveries = spool.nextDeliveries(window: 64 << 20)
            if deliveries.isEmpty { break }
            for case .records(let key, let firstSeq, let records) in deliveries {
                for (offset, record) in records.enumerated() { result[key, default: []].append((firstSeq + UInt64(offset), record)) }
            }
        }
        spool.endDelivery()
        return result
    }

    func cleanup() {
        logs.remove()
        state.remove()
    }
}

func records(_ chunks: [LogChunk]) -> [(UInt64, String)] {
    chunks.flatMap { chunk in chunk.records.enumerated().map { (chunk.firstSeq + UInt64($0.offset), $0.element.text) } }
}

@Suite("Demo log watcher: real files in temporary directories", .serialized)
struct LogWatcherTests {
    let token = "AbCdEfGh12345678"
    var name: String { "dvic_log_\(token)" }
    var key: String { "demo:\(token)" }

    @Test func partialLinesUnicodeAndLevels() async throws {
        let harness = try WatcherHarness()
        defer { harness.cleanup() }
        try harness.logs.write(name, headerLine(pid: getpid(), started: WallClock.milliseconds()) + recordLine("ready") + recordLine("unicode: café 日本語 🚀", level: "WARN"))
        var chunks = try await harness.poll()
        #expect(records(chunks).map(\.1) == ["ready", "unicode: café 日本語 🚀"])
        #expect(records(chunks).map(\.0) == [1, 2])
        #expect(chunks.first?.records.last?.severity == .warn)
        #expect(chunks.first?.info.name == "test-demo")
        #expect(chunks.first?.info.pid == UInt32(getpid()))

        try harness.logs.append(name, "2026-11-28T10:00:00.000Z ERROR half a li")
        chunks = try await harness.poll()
        #expect(chunks.isEmpty)
        try harness.logs.append(name, "ne\\nsecond\n")
        chunks = try await harness.poll()
        #expect(records(chunks).map(\.1) == ["half a line\nsecond"])
        #expect(records(chunks).map(\.0) == [3])
        #expect(chunks.first?.records.first?.severity == .error)
        // A line that is no record is kept whole as INFO.
        try harness.logs.append(name, "plain output\n")
        chunks = try await harness.poll()
        #expect(records(chunks).map(\.1) == ["plain output"])
        #expect(chunks.first?.records.first?.severity == .info)
    }

    @Test func truncationStartsOver() async throws {
        let harness = try WatcherHarness()
        defer { harness.cleanup() }
        try harness.logs.write(name, headerLine(pid: getpid(), started: WallClock.milliseconds()) + recordLine("one") + recordLine("two") + recordLine("three"))
        #expect(records(try await harness.poll()).map(\.1) == ["one", "two", "three"])
        // copytruncate: emptied, then written again without a header.
        try harness.logs.write(name, recordLine("four", level: "DEBUG") + recordLine("five"))
        let chunks = try await harness.poll()
        #expect(records(chunks).map(\.1) == ["four", "five"])
        #expect(records(chunks).map(\.0) == [4, 5])
        #expect(chunks.first?.records.first?.severity == .debug)
    }

    @Test func rotationByRenameAndCreate() async throws {
        let harness = try WatcherHarness()
        defer { harness.cleanup() }
        try harness.logs.write(name, headerLine(pid: getpid(), started: WallClock.milliseconds()) + recordLine("old 1") + recordLine("old 2"))
        #expect(records(try await harness.poll()).map(\.1) == ["old 1", "old 2"])
        // The writer appends once more, then the file is renamed away and a new one created.
        try harness.logs.append(name, recordLine("old 3") + "old partial")
        try FileManager.default.moveItem(atPath: harness.logs.file(name), toPath: harness.logs.file(name + ".1"))
        try harness.logs.write(name, headerLine(pid: getpid(), started: WallClock.milliseconds()) + recordLine("new 1"))
        let chunks = try await harness.poll()
        #expect(records(chunks).map(\.1) == ["old 3", "old partial", "new 1"])
        #expect(records(chunks).map(\.0) == [3, 4, 5])
        #expect(Set(chunks.map(\.info.key)) == [key])
    }

    @Test func deletedFileEndsTheStream() async throws {
        let harness = try WatcherHarness()
        defer { harness.cleanup() }
        try harness.logs.write(name, headerLine(pid: getpid(), started: WallClock.milliseconds()) + recordLine("only"))
        try await harness.poll()
        try harness.logs.append(name, recordLine("last words"))
        try FileManager.default.removeItem(atPath: harness.logs.file(name))
        let result = await harness.watcher.poll(now: WallClock.milliseconds())
        #expect(records(result.chunks).map(\.1) == ["last words"])
        #expect(result.goneKeys == [key])
        #expect(harness.watcher.activeKeys.isEmpty)
    }

    @Test func oneMegabyteLineComesInPieces() async throws {
        let harness = try WatcherHarness()
        defer { harness.cleanup() }
        let message = String(repeating: "é0123456789abcdefghijklmnopqrstuvwxyz", count: 28_000)  // ~1 MB with 2-byte characters
        #expect(message.utf8.count > 1_000_000)
        try harness.logs.write(name, headerLine(pid: getpid(), started: WallClock.milliseconds()) + recordLine(message, level: "ERROR") + recordLine("after"))
        let chunks = try await harness.poll()
        let all = records(chunks)
        #expect(all.count == Int((message.utf8.count + 262_143) / 262_144) + 1)
        #expect(all.dropLast().map(\.1).joined() == message)
        #expect(all.last?.1 == "after")
        #expect(all.map(\.0) == Array(1...UInt64(all.count)))
        #expect(chunks.flatMap(\.records).dropLast().allSatisfy { $0.severity == .error })
    }

    @Test func offsetsPersistOnlyAfterAckAndRestartsResumeExactly() async throws {
        let harness = try WatcherHarness()
        defer { harness.cleanup() }
        try harness.logs.write(name, headerLine(pid: getpid(), started: WallClock.milliseconds()) + recordLine("a") + recordLine("b") + recordLine("c"))
        try await harness.poll()
        harness.spool.flush()
        #expect(harness.spool.persistedCheckpoint(for: key) == nil)

        // Restart before any acknowledgement: the spool still has a..c, and the file is not read again.
        harness.restart()
        #expect(try await harness.poll().isEmpty)
        #expect(harness.delivered()[key]?.map(\.1.text) == ["a", "b", "c"])
        try harness.logs.append(name, recordLine("d") + recordLine("e"))
        let de = records(try await harness.poll())
        #expect(de.map(\.0) == [4, 5] && de.map(\.1) == ["d", "e"])

        // The server acknowledges everything: now (and only now) the offset is persisted.
        harness.spool.acknowledge(key: key, seq: 5)
        let checkpoint = try #require(harness.spool.persistedCheckpoint(for: key))
        let size = try FileManager.default.attributesOfItem(atPath: harness.logs.file(name))[.size] as! Int
        #expect(FilePosition(checkpoint.position)?.offset == Int64(size))
        #expect(checkpoint.seq == 5)

        // Restart after the acknowledgement: nothing is sent again, new lines number on.
        harness.restart()
        #expect(try await harness.poll().isEmpty)
        #expect(harness.delivered(resume: [key: 5]).isEmpty)
        try harness.logs.append(name, recordLine("f"))
        let f = records(try await harness.poll())
        #expect(f.map(\.0) == [6] && f.map(\.1) == ["f"])
        #expect(harness.delivered(resume: [key: 5])[key]?.map(\.0) == [6])
    }

    @Test func restartInTheMiddleOfALongLineNeitherLosesNorRepeats() async throws {
        // A small line limit (the header must still fit in it) so that a short line comes in pieces.
        let harness = try WatcherHarness(maxLineBytes: 256)
        defer { harness.cleanup() }
        let long = String(repeating: "x", count: 700)
        try harness.logs.write(name, headerLine(pid: getpid(), started: WallClock.milliseconds()) + recordLine("first") + "2026-11-28T10:00:00.000Z INFO " + long)
        try await harness.poll()
        harness.restart(maxLineBytes: 256)
        try harness.logs.append(name, "tail\n")
        try await harness.poll()
        let texts = harness.delivered()[key]!
        #expect(texts.map(\.0) == Array(1...UInt64(texts.count)))
        #expect(texts.dropFirst().map(\.1.text).joined() == long + "tail")
    }

    // MARK: Liveness

    @Test func livenessFollowsARealProcess() async throws {
        let harness = try WatcherHarness()
        defer { harness.cleanup() }
        let child = try ChildProcess.spawn(["sleep", "100"])
        closeDescriptor(child.stdout)
        closeDescriptor(child.stderr)
        try harness.logs.write(name, headerLine(pid: child.pid, name: "sleeper", started: WallClock.milliseconds()) + recordLine("up") + "unfinished")
        try await harness.poll()
        #expect(harness.watcher.processes.map(\.state) == [.running])
        #expect(harness.watcher.processes.first?.name == "sleeper")
        #expect(harness.watcher.processes.first?.pid == UInt32(child.pid))
        #expect((harness.watcher.processes.first?.startTicks ?? 0) > 0)

        kill(child.pid, SIGKILL)
        _ = await ChildProcess.wait(for: child.pid)
        var finished: [LogChunk] = []
        let exited = try await eventually {
            finished += try await harness.poll()
            return harness.watcher.processes.map(\.state) == [.exited]
        }
        #expect(exited)
        // The writer is gone, so its last line without newline is handed on.
        finished += try await harness.poll()
        #expect(records(finished).map(\.1) == ["unfinished"])
    }

    @Test func aReusedPidIsNotTheDemo() async throws {
        let harness = try WatcherHarness()
        defer { harness.cleanup() }
        let child = try ChildProcess.spawn(["sleep", "100"])
        closeDescriptor(child.stdout)
        closeDescriptor(child.stderr)
        defer {
            kill(child.pid, SIGKILL)
            _ = ChildProcess.reap(child.pid)
        }
        // The header says the demo started a minute before this process did: the pid was reused.
        try harness.logs.write(name, headerLine(pid: child.pid, started: WallClock.milliseconds() - 60_000) + recordLine("x"))
        try await harness.poll()
        #expect(harness.watcher.processes.map(\.state) == [.exited])
    }

    @Test func livenessCoreRules() {
        var core = DemoLivenessCore()
        core.track(key: "demo:a", name: "a", pid: 10, started: 5_000)
        core.track(key: "demo:b", name: "b", pid: 11, started: 5_000)
        let starts: [Int32: ProcessStart] = [
            10: ProcessStart(startTicks: 7, startMilliseconds: 5_900, isZombie: false),  // within the slack
            11: ProcessStart(startTicks: 9, startMilliseconds: 6_500, isZombie: false),  // later: reused
        ]
        let result1 = core.evaluate(now: 1, probe: { starts[$0] })
        #expect(result1)
        #expect(core.state(of: "demo:a") == .running)
        #expect(core.state(of: "demo:b") == .exited)
        let result2 = core.evaluate(now: 2, probe: { starts[$0] })
        #expect(!result2)
        // Same pid, other start ticks: another process now.
        let result3 = core.evaluate(now: 3, probe: { _ in ProcessStart(startTicks: 8, startMilliseconds: 5_000, isZombie: false) })
        #expect(result3)
        #expect(core.state(of: "demo:a") == .exited)
        #expect(core.processes.map(\.changedAt) == [3, 1])
    }
}
