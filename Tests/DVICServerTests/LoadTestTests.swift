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
