import DVICProtocol
import DVICServerCore
import Testing

/// The rollout's batching and stop-on-failure, driven without I/O or a clock.
@Suite struct UpdateRolloutCoreTests {
    func targets(_ count: Int, version: String = "1.0") -> [UpdateRolloutCore.Target] {
        (0..<count).map { UpdateRolloutCore.Target(nodeID: "n\($0)", name: "node-\($0)", version: version) }
    }

    func offers(_ directives: [UpdateRolloutCore.Directive]) -> [String] {
        directives.flatMap { directive -> [String] in
            if case .offer(let ids) = directive { return ids }
            return []
        }
    }

    func finished(_ directives: [UpdateRolloutCore.Directive]) -> UpdateRolloutCore.State? {
        for directive in directives { if case .finished(let state) = directive { return state } }
        return nil
    }

    @Test func goesBatchByBatchAndSucceeds() {
        var core = UpdateRolloutCore(id: "u1", version: "2.0", targets: targets(5), batchSize: 2, timeoutMilliseconds: 60_000, actor: "admin", now: 0)
        #expect(core.batchCount == 3)
        #expect(offers(core.start(now: 0)) == ["n0", "n1"])
        // Progress reports do not finish a node.
        _ = core.agentReported(nodeID: "n0", version: "2.0", state: .downloading, message: "", now: 1)
        #expect(core.nodes[0].phase == .downloading)
        #expect(offers(core.observe(nodeID: "n0", online: true, agentVersion: "2.0", now: 2)).isEmpty)
        // Offline, or online with the old version: still waiting.
        #expect(core.observe(nodeID: "n1", online: false, agentVersion: "2.0", now: 3).isEmpty)
        #expect(core.observe(nodeID: "n1", online: true, agentVersion: "1.0", now: 3).isEmpty)
        // Nodes of later batches are not touched before their batch.
        #expect(core.observe(nodeID: "n2", online: true, agentVersion: "2.0", now: 3).isEmpty)
        #expect(core.nodes[2].phase == .pending)
        #expect(offers(core.observe(nodeID: "n1", online: true, agentVersion: "2.0", now: 4)) == ["n2", "n3"])
        _ = core.observe(nodeID: "n2", online: true, agentVersion: "2.0", now: 5)
        #expect(offers(core.observe(nodeID: "n3", online: true, agentVersion: "2.0", now: 6)) == ["n4"])
        let last = core.observe(nodeID: "n4", online: true, agentVersion: "2.0", now: 7)
        #expect(finished(last) == .succeeded)
        #expect(core.state == .succeeded)
        #expect(core.doneCount == 5)
    }

    @Test func stopsAtTheFirstBatchThatFails() {
        var core = UpdateRolloutCore(id: "u2", version: "2.0", targets: targets(6), batchSize: 2, timeoutMilliseconds: 60_000, actor: "admin", now: 0)
        _ = core.start(now: 0)
        _ = core.observe(nodeID: "n0", online: true, agentVersion: "2.0", now: 1)
        #expect(offers(core.observe(nodeID: "n1", online: true, agentVersion: "2.0", now: 1)) == ["n2", "n3"])
        // n2 rolls back: the batch is not over until n3 settles too.
        #expect(finished(core.agentReported(nodeID: "n2", version: "2.0", state: .rolledBack, message: "did not start", now: 2)) == nil)
        let end = core.observe(nodeID: "n3", online: true, agentVersion: "2.0", now: 3)
        #expect(finished(end) == .failed)
        #expect(offers(end).isEmpty)
        #expect(core.nodes[2].phase == .failed)
        #expect(core.nodes[2].message.contains("rolled back"))
        #expect(core.nodes[4].phase == .skipped)
        #expect(core.nodes[5].phase == .skipped)
        #expect(core.message.contains("batch 2 failed"))
        // Nothing moves after the end.
        #expect(core.observe(nodeID: "n4", online: true, agentVersion: "2.0", now: 4).isEmpty)
    }

    @Test func refusalsUndeliverableOffersAndTimeoutsFail() {
        var refused = UpdateRolloutCore(id: "u3", version: "2.0", targets: targets(1), batchSize: 1, timeoutMilliseconds: 60_000, actor: "a", now: 0)
        _ = refused.start(now: 0)
        #expect(finished(refused.agentReported(nodeID: "n0", version: "2.0", state: .refused, message: "bad signature", now: 1)) == .failed)

        var offline = UpdateRolloutCore(id: "u4", version: "2.0", targets: targets(1), batchSize: 1, timeoutMilliseconds: 60_000, actor: "a", now: 0)
        _ = offline.start(now: 0)
        #expect(finished(offline.offerFailed(nodeID: "n0", reason: "offline", now: 0)) == .failed)

        var slow = UpdateRolloutCore(id: "u5", version: "2.0", targets: targets(1), batchSize: 1, timeoutMilliseconds: 60_000, actor: "a", now: 0)
        _ = slow.start(now: 0)
        #expect(slow.tick(now: 59_999).isEmpty)
        #expect(finished(slow.tick(now: 60_000)) == .failed)
        #expect(slow.nodes[0].message.contains("within 60 s"))

        // A report about another version is not this rollout's.
        var other = UpdateRolloutCore(id: "u6", version: "2.0", targets: targets(1), batchSize: 1, timeoutMilliseconds: 60_000, actor: "a", now: 0)
        _ = other.start(now: 0)
        #expect(other.agentReported(nodeID: "n0", version: "3.0", state: .failed, message: "", now: 1).isEmpty)
        #expect(other.state == .running)
    }

    @Test func nodesAlreadyOnTheVersionSucceedWithoutAnOffer() {
        var core = UpdateRolloutCore(id: "u7", version: "2.0", targets: targets(3, version: "2.0"), batchSize: 2, timeoutMilliseconds: 1000, actor: "a", now: 0)
        let directives = core.start(now: 0)
        #expect(offers(directives).isEmpty)
        #expect(finished(directives) == .succeeded)
        #expect(core.nodes.allSatisfy { $0.phase == .succeeded && $0.message == "already at 2.0" })
    }
}

@Suite struct DownloadTokensCoreTests {
    @Test func aTokenIsGoodOnceAndUntilItExpires() {
        var tokens = DownloadTokensCore()
        tokens.issue(tokenHash: [1], version: "2.0", now: 0, ttlMilliseconds: 1000)
        tokens.issue(tokenHash: [2], version: "2.0", now: 0, ttlMilliseconds: 1000)
        #expect(tokens.redeem(tokenHash: [1], now: 10) == .granted(version: "2.0"))
        #expect(tokens.redeem(tokenHash: [1], now: 11) == .unknown)
        #expect(tokens.redeem(tokenHash: [2], now: 1000) == .expired)
        #expect(tokens.redeem(tokenHash: [3], now: 0) == .unknown)
        tokens.issue(tokenHash: [4], version: "2.0", now: 0, ttlMilliseconds: 10)
        tokens.issue(tokenHash: [5], version: "2.0", now: 100, ttlMilliseconds: 10)
        #expect(tokens.count == 1)
    }
}
