import DVICProtocol
import DVICServer
import DVICTesting
import Foundation
import Testing

/// The load-test engine in-process against a real server, with a few dozen nodes:
/// a clean run must pass, and planted losses and duplicates must be caught (a check
/// that cannot fail would prove nothing). No timing is asserted.
@Suite(.serialized)
struct LoadTestTests {
    private func options(_ harness: FleetHarness, nodes: Int) -> LoadTestOptions {
        var options = LoadTestOptions(server: harness.baseURL, nodes: nodes, duration: 2)
        options.adminPassword = harness.adminPassword
        options.logRate = 20
        options.batchInterval = 0.1
        options.metrics = 5
        options.drainTimeout = 60
        return options
    }

    @Test func cleanRunPassesAndAResentBatchIsStoredOnce() async throws {
        let harness = try await FleetHarness.start()
        var options = options(harness, nodes: 24)
        options.broadcastEvery = 0.8
        // Node 0 resends its first batch with the same seqs, as after a reconnect.
        options.plant = [.resendBatch(node: 0)]
        let report = try await LoadTest(options: options).run()
        await harness.stop()

        #expect(report.failures == [])
        #expect(report.connect.authenticated == 24)
        #expect(report.connect.refused == 0)
        #expect(report.delivery.streams == 24)
        #expect(report.delivery.linesSent > 0)
        #expect(report.delivery.rowsStored == report.delivery.linesSent)
        #expect(report.delivery.lost == 0)
        #expect(report.delivery.duplicated == 0)
        #expect(report.unackedLines == 0)
        #expect(report.broadcasts.sent >= 1)
        #expect(report.broadcasts.incomplete == 0)
        // Timed on the commands stream, not found by polling.
        #expect(report.broadcasts.polled == 0)
        #expect(report.broadcasts.targets.allSatisfy { $0 == 24 })
        #expect((report.stream?.logEntries ?? 0) > 0)
        #expect(report.ingestLag.count > 0)
        #expect(report.traffic.bytes > 0)
    }

    @Test func plantedLossAndDuplicateAreCaught() async throws {
        let harness = try await FleetHarness.start()
        var options = options(harness, nodes: 12)
        options.subscriber = false
        options.plant = [.dropLine(node: 3), .repeatLine(node: 7)]
        let report = try await LoadTest(options: options).run()
        await harness.stop()

        #expect(report.delivery.lost == 1)
        #expect(report.delivery.duplicated == 1)
        #expect(!report.passed)
        #expect(report.failures.contains("1 lines lost"))
        #expect(report.failures.contains("1 lines duplicated"))
        #expect(report.delivery.problems.count == 2)
    }

    /// Node 2's socket is dropped right after a batch went out, so lines are in flight:
    /// it must reconnect, resend past its resume point, and the run pass with every
    /// line stored exactly once.
    @Test func droppedConnectionReconnectsAndResendsEveryLineOnce() async throws {
        let harness = try await FleetHarness.start()
        var options = options(harness, nodes: 12)
        // Long enough that the node is back while the load still runs, and ticks on.
        options.duration = 4
        options.subscriber = false
        options.plant = [.dropConnection(node: 2)]
        let report = try await LoadTest(options: options).run()
        await harness.stop()

        #expect(report.failures == [])
        #expect(report.disconnectedDuringRun >= 1)
        #expect(report.reconnects.succeeded >= 1)
        #expect(report.reconnects.nodes == 1)
        #expect(report.reconnects.notReconnected == 0)
        #expect(report.reconnects.resentLines > 0)
        #expect(report.delivery.streams == 12)
        #expect(report.delivery.linesSent > 0)
        #expect(report.delivery.rowsStored == report.delivery.linesSent)
        #expect(report.delivery.lost == 0)
        #expect(report.delivery.duplicated == 0)
        #expect(report.unackedLines == 0)
    }

    /// The same fault with reconnecting off must fail: otherwise the test above would
    /// prove nothing about reconnection.
    @Test func droppedConnectionWithoutReconnectFails() async throws {
        let harness = try await FleetHarness.start()
        var options = options(harness, nodes: 6)
        options.subscriber = false
        options.reconnect = false
        options.plant = [.dropConnection(node: 2)]
        let report = try await LoadTest(options: options).run()
        await harness.stop()

        #expect(!report.passed)
        #expect(report.disconnectedDuringRun == 1)
        #expect(report.reconnects.succeeded == 0)
        #expect(report.reconnects.notReconnected == 1)
        #expect(report.failures.contains("1 nodes lost their connection and were not back by the end"))
    }

    /// `dvic-loadtest --processes 2` (the built executable, its child a second one) with a
    /// dropped connection in each process: the parent merges the child's ledgers and
    /// reconnect counts, and the run passes.
    @Test func twoProcessesMergeLedgersAndReconnects() async throws {
        let harness = try await FleetHarness.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-loadtest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Node 0 runs in the parent, node 1 in the child (nodes are dealt round-robin).
        let program = try BuiltProgram("dvic-loadtest", [
            "--server", harness.baseURL, "--nodes", "40", "--duration", "4", "--processes", "2",
            "--log-rate", "20", "--batch-interval", "0.1", "--metrics", "5", "--drain-timeout", "60",
            "--plant", "drop-connection:0", "--plant", "drop-connection:1", "--json", directory + "/report.json",
        ], output: directory + "/output.log", environment: ["DVIC_ADMIN_PASSWORD": harness.adminPassword])
        let status = await program.wait(timeout: .seconds(240))
        if status == nil { await program.kill() }
        await harness.stop()

        #expect(status == 0, "\(program.text)")
        let data = try #require(FileManager.default.contents(atPath: directory + "/report.json"))
        let report = try JSONDecoder().decode(LoadTestReport.self, from: data)
        #expect(report.failures == [])
        #expect(report.processes == 2)
        #expect(report.connect.authenticated == 40)
        #expect(report.delivery.streams == 40)
        #expect(report.delivery.rowsStored == report.delivery.linesSent)
        #expect(report.delivery.lost == 0 && report.delivery.duplicated == 0)
        #expect(report.reconnects.nodes == 2)
        #expect(report.reconnects.succeeded >= 2)
        #expect(report.reconnects.notReconnected == 0)
        #expect(report.disconnectedDuringRun >= 2)
    }

    /// The ledger alone: after a resume point, exactly the lines past it come back, with
    /// their seqs, text and timestamps, and late acks from any session count.
    @Test func ledgerResendsExactlyWhatIsPastTheResumePoint() {
        var ledger = LoadLedger(node: 7, streamID: 1)
        var sent: [LogRecord] = []
        for tick in 0..<6 {
            let batch = ledger.append(lines: 4, end: 1_000_000 + Int64(tick) * 100, span: 100, repeatFirst: tick == 3)
            sent += batch?.records ?? []
        }
        #expect(ledger.lastSeq == 25 && ledger.lines == 24)
        var lags: [Int] = []
        ledger.acknowledge(8, now: 1_000_500) { lags.append($0) }
        #expect(lags.count == 2 && ledger.unacked == 17)

        // The server holds up to seq 10 (in the middle of the third batch).
        let resend = ledger.resume(after: 10, now: 1_002_000, maxRecords: 8) { lags.append($0) }
        #expect(lags.count == 2)
        let records = resend.flatMap(\.records)
        #expect(resend.first?.firstSeq == 11)
        #expect(records == Array(sent[10...]))
        #expect(resend.allSatisfy { $0.records.count <= 8 && $0.streamID == 1 })
        // Consecutive: each batch starts where the one before ended.
        #expect(zip(resend, resend.dropFirst()).allSatisfy { $0.firstSeq + UInt64($0.records.count) == $1.firstSeq })
        #expect(ledger.resentRecords == 15)

        // An ack of the new session; the lag is from the lines' own timestamps.
        ledger.acknowledge(25, now: 1_003_000) { lags.append($0) }
        #expect(ledger.unacked == 0 && ledger.pendingBatches == 0)
        #expect(lags.count == 6 && lags.last == 1_003_000 - 1_000_425)
        let nothing = ledger.resume(after: 25, now: 1_003_000) { _ in }
        #expect(nothing.isEmpty)

        // A planted loss: counted, never numbered, and not resent.
        var lossy = LoadLedger(node: 1, streamID: 1)
        let first = lossy.append(lines: 3, end: 5000, span: 300, dropLast: true)
        #expect(first?.records.count == 2 && lossy.lines == 3 && lossy.lastSeq == 2)
        let again = lossy.resume(after: 0, now: 6000) { _ in }
        #expect(again.flatMap(\.records) == first?.records)
    }

    @Test func deliveryCheckAccounting() {
        let a = DeliveryCheck.StreamID(node: "a", stream: "s")
        let b = DeliveryCheck.StreamID(node: "b", stream: "s")
        let c = DeliveryCheck.StreamID(node: "c", stream: "s")
        let clean = DeliveryCheck(sent: [a: 10, b: 0], stored: [a: .init(rows: 10, distinctSeqs: 10, minSeq: 1, maxSeq: 10)])
        #expect(clean.passed && clean.linesSent == 10 && clean.rowsStored == 10)
        // Nothing stored at all for a stream that sent lines.
        let missing = DeliveryCheck(sent: [a: 10, c: 3], stored: [a: .init(rows: 10, distinctSeqs: 10, minSeq: 1, maxSeq: 10)])
        #expect(missing.lost == 3 && missing.duplicated == 0)
        // A seq stored twice (the identity index gone), and a line under an extra seq.
        let twice = DeliveryCheck(sent: [a: 10, b: 5], stored: [
            a: .init(rows: 11, distinctSeqs: 10, minSeq: 1, maxSeq: 10),
            b: .init(rows: 6, distinctSeqs: 6, minSeq: 1, maxSeq: 6),
        ])
        #expect(twice.lost == 0 && twice.duplicated == 2)
        // A loss and a duplicate in one stream do not cancel out.
        let both = DeliveryCheck(sent: [a: 10], stored: [a: .init(rows: 10, distinctSeqs: 10, minSeq: 1, maxSeq: 11)])
        #expect(both.lost == 1 && both.duplicated == 1)
        // Streams nobody drove are ignored.
        let other = DeliveryCheck(sent: [a: 1], stored: [a: .init(rows: 1, distinctSeqs: 1, minSeq: 1, maxSeq: 1), c: .init(rows: 9, distinctSeqs: 9, minSeq: 1, maxSeq: 9)])
        #expect(other.passed && other.streams == 1)
    }
}
