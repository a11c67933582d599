import DVICProtocol
@testable import DVICServer
import DVICServerCore
import Testing
import Synchronization

/// The actors' value-type cores, driven without I/O and with an injected time.
@Suite struct NodeRegistryCoreTests {
    func core() -> NodeRegistryCore {
        var core = NodeRegistryCore(agentTimeoutMs: 30_000)
        core.load([NodeInfo(id: "a", name: "alpha", kind: .agent), NodeInfo(id: "d", name: "esp", kind: .device, keepaliveSeconds: 10)])
        return core
    }

    @Test func newConnectionReplacesTheOldOne() {
        var registry = core()
        let first = registry.connected(nodeID: "a", sessionID: "s1", agentVersion: "1", now: 1000)
        #expect(first.count == 1)
        let second = registry.connected(nodeID: "a", sessionID: "s2", agentVersion: "1", now: 2000)
        #expect(second.contains(.closeSession(nodeID: "a", sessionID: "s1")))
        // The replaced session ending does not take the node offline.
        #expect(registry.disconnected(nodeID: "a", sessionID: "s1", now: 3000).isEmpty)
        #expect(registry.nodes["a"]?.state == .online)
        let end = registry.disconnected(nodeID: "a", sessionID: "s2", now: 4000)
        #expect(registry.nodes["a"]?.state == .offline)
        #expect(end.count == 1)
    }

    @Test func silentAgentGoesOfflineAndItsSessionIsClosed() {
        var registry = core()
        _ = registry.connected(nodeID: "a", sessionID: "s1", agentVersion: "1", now: 0)
        #expect(registry.tick(now: 29_000).isEmpty)
        let directives = registry.tick(now: 31_000)
        #expect(directives.contains(.closeSession(nodeID: "a", sessionID: "s1")))
        #expect(registry.nodes["a"]?.state == .offline)
    }

    @Test func deviceIsOfflineAfterThreeMissedIntervals() {
        var registry = core()
        _ = registry.seen(nodeID: "d", now: 0)
        #expect(registry.nodes["d"]?.state == .online)
        #expect(registry.tick(now: 29_000).isEmpty)
        #expect(registry.tick(now: 30_001).count == 1)
        #expect(registry.nodes["d"]?.state == .offline)
    }

    @Test func agentWithoutSessionStaysOfflineWhenSeen() {
        var registry = core()
        #expect(registry.seen(nodeID: "a", now: 5).isEmpty)
        #expect(registry.nodes["a"]?.state == .offline)
    }
}

@Suite struct LogRouterCoreTests {
    func batch(_ first: UInt64, _ count: Int) -> LogBatch {
        LogBatch(streamID: 1, firstSeq: first, records: (0..<count).map { LogRecord(timestamp: Int64($0), severity: .info, text: "line \(first + UInt64($0))") })
    }

    @Test func acksOnlyAfterCommitAndDropsReplays() {
        var core = LogRouterCore()
        #expect(core.ingest(nodeID: "n", sessionID: "s", streamID: 1, streamKey: "k", batch: batch(1, 3)).isEmpty)
        let (rows, acks) = core.takePending()
        #expect(rows.map(\.seq) == [1, 2, 3])
        let directives = core.committed(rows: rows, acks: acks)
        #expect(directives.first == .ack(.init(nodeID: "n", sessionID: "s", streamID: 1, streamKey: "k", seq: 3)))
        // A replay of 2...4 after a reconnect: only 4 is new.
        _ = core.ingest(nodeID: "n", sessionID: "s2", streamID: 7, streamKey: "k", batch: batch(2, 3))
        #expect(core.pending.map(\.seq) == [4])
        #expect(core.duplicatesDropped == 2)
        // A replay of what is all durable is acked at once.
        let immediate = core.ingest(nodeID: "n", sessionID: "s2", streamID: 7, streamKey: "k", batch: batch(1, 2))
        #expect(immediate == [.ack(.init(nodeID: "n", sessionID: "s2", streamID: 7, streamKey: "k", seq: 2))])
    }

    @Test func failedWriteIsRetriedAndNotAcked() {
        var core = LogRouterCore()
        _ = core.ingest(nodeID: "n", sessionID: "s", streamID: 1, streamKey: "k", batch: batch(1, 2))
        let (rows, acks) = core.takePending()
        core.failed(rows: rows, acks: acks)
        #expect(core.pending.count == 2)
        let retry = core.takePending()
        let directives = core.committed(rows: retry.rows, acks: retry.acks)
        #expect(directives.contains(.ack(.init(nodeID: "n", sessionID: "s", streamID: 1, streamKey: "k", seq: 2))))
    }

    @Test func fanOutOnlyForFollowedNodesAndDurableFromTheAcks() {
        var core = LogRouterCore()
        _ = core.ingest(nodeID: "seen", sessionID: "s", streamID: 1, streamKey: "k", batch: batch(1, 2))
        _ = core.ingest(nodeID: "quiet", sessionID: "t", streamID: 1, streamKey: "k", batch: batch(1, 3))
        let (rows, acks) = core.takePending()
        var asked: [String] = []
        let directives = core.committed(rows: rows, acks: acks) { node in
            asked.append(node)
            return node == "seen"
        }
        // Both batches are acked; only the followed node's entries are built, and the
        // predicate is asked once per node, not per row.
        #expect(directives.filter { if case .ack = $0 { true } else { false } }.count == 2)
        let fanned = directives.compactMap { directive -> [UInt64]? in
            if case .fanOut(let node, _, let entries) = directive, node == "seen" { return entries.map(\.seq) }
            if case .fanOut = directive { return [] }
            return nil
        }
        #expect(fanned == [[1, 2]])
        #expect(asked.sorted() == ["quiet", "seen"])
        #expect(core.durableSeq(.init(nodeID: "quiet", streamKey: "k")) == 3)
        #expect(core.durableSeq(.init(nodeID: "seen", streamKey: "k")) == 2)
    }

    @Test func resumePointsSeedDurable() {
        var core = LogRouterCore()
        core.learnDurable(.init(nodeID: "n", streamKey: "k"), seq: 10)
        let directives = core.ingest(nodeID: "n", sessionID: "s", streamID: 1, streamKey: "k", batch: batch(5, 6))
        #expect(directives.count == 1)
        #expect(core.pending.isEmpty)
        #expect(core.nextSeq(.init(nodeID: "n", streamKey: "k")) == 11)
    }
}

@Suite struct CommandDispatcherCoreTests {
    let nodes = (1...3).map { NodeInfo(id: "n\($0)", name: "node\($0)", kind: .agent, state: .online) }
    let request = CommandRequest(commandID: "c1", mode: .shell, argv: ["true"], timeoutMs: 1000, maxOutputBytes: 65536)

    @Test func fanOutCollectsEveryResult() {
        var core = CommandDispatcherCore(maxOutputBytes: 8, graceMs: 100)
        let start = core.start(id: "c1", actor: "ops", request: request, commandLine: "true", online: Array(nodes.prefix(2)), offline: [nodes[2]], now: 0)
        #expect(start.filter { if case .send = $0 { true } else { false } }.count == 2)
        _ = core.output(nodeID: "n1", CommandOutput(commandID: "c1", stream: .stdout, data: Array("0123456789".utf8)))
        #expect(core.commands["c1"]?.results["n1"]?.stdout.count == 8)
        #expect(core.commands["c1"]?.results["n1"]?.truncated == true)
        _ = core.exit(nodeID: "n1", CommandExit(commandID: "c1", reason: .exited, exitCode: 0, signal: 0, durationMs: 5, message: ""))
        let last = core.exit(nodeID: "n2", CommandExit(commandID: "c1", reason: .exited, exitCode: 2, signal: 0, durationMs: 7, message: ""))
        guard case .finished(let command)? = last.last else {
            Issue.record("no finished directive")
            return
        }
        #expect(command.results["n2"]?.exitCode == 2)
        #expect(command.results["n3"]?.reason == .lost)
    }

    @Test func timeoutGivesUpAndCancels() {
        var core = CommandDispatcherCore(graceMs: 100)
        _ = core.start(id: "c1", actor: "ops", request: request, commandLine: "sleep", online: [nodes[0]], offline: [], now: 0)
        #expect(core.tick(now: 1050).isEmpty)
        let directives = core.tick(now: 1200)
        #expect(directives.contains(.send(nodeID: "n1", .commandCancel(CommandCancel(commandID: "c1")))))
        #expect(core.commands["c1"]?.results["n1"]?.reason == .timedOut)
    }

    @Test func doneCountFollowsEveryAnswerOnce() {
        // The count is kept as results change (no longer recounted per answer); every
        // path that finishes a node must move it exactly once.
        let many = (1...6).map { NodeInfo(id: "m\($0)", name: "m\($0)", kind: .agent, state: .online) }
        var core = CommandDispatcherCore(graceMs: 100)
        _ = core.start(id: "c1", actor: "ops", request: request, commandLine: "true", online: Array(many.prefix(5)), offline: [many[5]], now: 0)
        #expect(core.commands["c1"]?.doneCount == 1)
        let exit = CommandExit(commandID: "c1", reason: .exited, exitCode: 0, signal: 0, durationMs: 1, message: "")
        let first = core.exit(nodeID: "m1", exit)
        #expect(core.commands["c1"]?.doneCount == 2)
        guard case .progress(_, let progress)? = first.first else {
            Issue.record("no progress")
            return
        }
        #expect(progress.done == 2 && progress.total == 6)
        // A second exit and late output of a finished node change nothing.
        #expect(core.exit(nodeID: "m1", exit).isEmpty)
        #expect(core.output(nodeID: "m1", CommandOutput(commandID: "c1", stream: .stdout, data: [65])).isEmpty)
        #expect(core.commands["c1"]?.doneCount == 2)
        _ = core.output(nodeID: "m2", CommandOutput(commandID: "c1", stream: .stdout, data: [65]))
        #expect(core.commands["c1"]?.doneCount == 2)
        _ = core.nodeLost(nodeID: "m2", now: 10)
        #expect(core.commands["c1"]?.doneCount == 3)
        _ = core.exit(nodeID: "m3", exit)
        let late = core.tick(now: 1200)
        #expect(late.contains { if case .finished(let command) = $0 { command.doneCount == 6 && command.isDone } else { false } })
        #expect(core.commands["c1"]?.results["m4"]?.reason == .timedOut)
        #expect(core.commands["c1"]?.results["m3"]?.reason == .exited)
    }

    @Test func lostNodeEndsItsPart() {
        var core = CommandDispatcherCore()
        _ = core.start(id: "c1", actor: "ops", request: request, commandLine: "x", online: [nodes[0]], offline: [], now: 0)
        let directives = core.nodeLost(nodeID: "n1", now: 50)
        #expect(directives.contains { if case .finished = $0 { true } else { false } })
    }
}

@Suite struct PtyBrokerCoreTests {
    @Test func twoViewersShareASessionAndAJoinerGetsScrollback() {
        var broker = PtyBrokerCore(scrollbackLimit: 8)
        _ = broker.open(sessionID: "p1", nodeID: "n", viewer: 1, actor: "ops", rows: 24, cols: 80, argv: [], now: 0)
        _ = broker.output(nodeID: "n", PtyOutput(sessionID: "p1", data: Array("0123456789".utf8)))
        let join = broker.join(sessionID: "p1", nodeID: "n", viewer: 2)
        #expect(join == [.toViewer(viewer: 2, .ptyAttached(PtyAttached(sessionID: "p1", nodeID: "n", scrollback: Array("23456789".utf8))))])
        let out = broker.output(nodeID: "n", PtyOutput(sessionID: "p1", data: [65]))
        #expect(out.count == 2)
        #expect(broker.input(sessionID: "p1", viewer: 3, data: [1]).isEmpty)
        #expect(broker.input(sessionID: "p1", viewer: 2, data: [1]).count == 1)
        #expect(broker.join(sessionID: "p1", nodeID: "other", viewer: 4) == nil)
        let closed = broker.closedByNode(nodeID: "n", PtyClose(sessionID: "p1", exitCode: 3, reason: "exit"))
        #expect(closed.count == 3)
        #expect(broker.sessions.isEmpty)
    }
}

@Suite struct MetricStoreCoreTests {
    @Test func windowKeepsNewestAndRollupsFinish() {
        var core = MetricStoreCore(capacity: 5, resolutions: [10])
        var finished: [MetricStoreCore.Rollup] = []
        for second in 0..<12 {
            finished += core.record(nodeID: "n", timestamp: Int64(second) * 1000, values: [("cpu", Double(second))])
        }
        let points = core.window(nodeID: "n", name: "cpu", since: 0, until: 100_000)
        #expect(points.map(\.1) == [7, 8, 9, 10, 11])
        #expect(finished.count == 1)
        #expect(finished.first?.count == 10)
        #expect(finished.first?.average == 4.5)
        #expect(finished.first?.min == 0 && finished.first?.max == 9)
        #expect(core.partialRollups().first?.count == 2)
        #expect(core.latest(nodeID: "n")?.values["cpu"] == 11)
    }

    @Test func downsampleAverages() {
        let points: [(Int64, Double)] = [(0, 1), (500, 3), (1000, 5), (1999, 7), (2500, 9)]
        let result = MetricStoreCore.downsample(points, step: 1000)
        #expect(result.map(\.0) == [0, 1000, 2000])
        #expect(result.map(\.1) == [2, 6, 9])
    }
}

@Suite struct SmallPartsTests {
    @Test func filterByKindNodeTagSeverityAndText() {
        let subscribe = Subscribe(subscriptionID: 1, kinds: 4, nodes: [], tags: ["lab"], metrics: [], minSeverity: .warn, text: "CAMERA")
        let filter = StreamFilter(subscribe)
        let entries = LogEntries(nodeID: "n", streamKey: "k", entries: [
            StreamLogEntry(seq: 1, timestamp: 0, severity: .info, text: "camera ok"),
            StreamLogEntry(seq: 2, timestamp: 0, severity: .error, text: "Camera lost"),
        ])
        let event = StreamEvent(kind: .logs, nodeID: "n", nodeTags: ["lab"], message: .logEntries(entries))
        guard case .logEntries(let kept)? = filter.apply(to: event) else {
            Issue.record("filtered out")
            return
        }
        #expect(kept.entries.map(\.seq) == [2])
        #expect(filter.apply(to: StreamEvent(kind: .logs, nodeID: "n", nodeTags: ["other"], message: .logEntries(entries))) == nil)
        #expect(filter.apply(to: StreamEvent(kind: .metrics, nodeID: "n", nodeTags: ["lab"], message: .logEntries(entries))) == nil)
    }

    @Test func rateLimiterRefillsOverTime() {
        var limiter = RateLimiter(rate: 10, burst: 20, now: 0)
        let results = [limiter.take(20, now: 0), limiter.take(1, now: 0), limiter.take(5, now: 500), limiter.take(1, now: 500)]
        #expect(results == [true, false, true, false])
    }

    @Test func roleOrder() {
        #expect(Role.admin.allows(.operator))
        #expect(Role.operator.allows(.viewer))
        #expect(!Role.viewer.allows(.operator))
    }

    @Test func originCheck() {
        #expect(FleetServer.originAllowed(nil, host: "h:8080", allowed: []))
        #expect(FleetServer.originAllowed("http://h:8080", host: "h:8080", allowed: []))
        #expect(!FleetServer.originAllowed("http://evil.example", host: "h:8080", allowed: []))
        #expect(FleetServer.originAllowed("http://dev:3000", host: "h:8080", allowed: ["http://dev:3000"]))
        #expect(FleetServer.originAllowed("ws://h", host: "h:8080", allowed: []))
        #expect(!FleetServer.originAllowed("ws://other", host: "h:8080", allowed: []))
        #expect(!FleetServer.originAllowed("http://h:9999", host: "h:8080", allowed: []))
    }
}

@Suite struct AgentLinkTests {
    /// A link whose agent stops reading closes itself at the byte limit.
    @Test(.timeLimit(.minutes(1))) func closesWhenTooMuchIsQueued() async {
        let delivered = Mutex(0)
        let link = AgentLink(nodeID: "n", sessionID: "s", maxPendingBytes: 1000) { _ in delivered.withLock { $0 += 1 } }
        let chunk = Message.ptyInput(PtyInput(sessionID: "p", data: Array(repeating: 1, count: 300)))
        #expect(link.send([chunk]))
        #expect(link.send([chunk]))
        #expect(link.send([chunk]))
        #expect(!link.send([chunk]))
        #expect(link.closeReason?.contains("1000 bytes") == true)
        #expect(!link.send([.ping(Ping(nonce: 1))]))
        // Only what was accepted reached the connection, and the link says it ended.
        #expect(delivered.withLock { $0 } == 3)
        for await _ in link.ended {}
    }

    @Test func writtenBatchesFreeTheirBytes() {
        let link = AgentLink(nodeID: "n", sessionID: "s", maxPendingBytes: 1000) { _ in }
        let chunk = [Message.ptyInput(PtyInput(sessionID: "p", data: Array(repeating: 1, count: 600)))]
        #expect(link.send(chunk))
        link.written(chunk)
        #expect(link.queuedBytes == 0)
        #expect(link.send(chunk))
    }
}

@Suite struct StreamHubTests {
    /// A slow viewer keeps the newest `limit` updates, in order; the drops are counted.
    @Test func queueKeepsTheNewestAndCountsDrops() {
        let queue = StreamQueue(limit: 3)
        let pushed = (1...8).map { queue.push(.ping(Ping(nonce: UInt64($0)))) }
        #expect(pushed == [true, true, true, false, false, false, false, false])
        #expect(queue.count == 3)
        #expect(queue.take(maximum: 2).map { message -> UInt64 in if case .ping(let ping) = message { ping.nonce } else { 0 } } == [6, 7])
        queue.push(.ping(Ping(nonce: 9)))
        #expect(queue.take(maximum: 10).map { message -> UInt64 in if case .ping(let ping) = message { ping.nonce } else { 0 } } == [8, 9])
        #expect(queue.take(maximum: 10).isEmpty)
        queue.finish()
        #expect(queue.push(.ping(Ping(nonce: 10))) == false)
    }

    /// Two subscriptions of one viewer with different log filters: the viewer gets the
    /// union, once.
    @Test func overlappingSubscriptionsGetTheUnionOnce() async {
        let hub = StreamHub()
        let (id, events) = await hub.add(role: .viewer)
        await hub.subscribe(id, Subscribe(subscriptionID: 1, kinds: 4, nodes: [], tags: [], metrics: [], minSeverity: .error, text: ""))
        await hub.subscribe(id, Subscribe(subscriptionID: 2, kinds: 4, nodes: [], tags: [], metrics: [], minSeverity: .trace, text: "camera"))
        let entries = LogEntries(nodeID: "n", streamKey: "k", entries: [
            StreamLogEntry(seq: 1, timestamp: 0, severity: .info, text: "camera ok"),
            StreamLogEntry(seq: 2, timestamp: 0, severity: .error, text: "disk full"),
            StreamLogEntry(seq: 3, timestamp: 0, severity: .info, text: "other"),
        ])
        await hub.publish(StreamEvent(kind: .logs, nodeID: "n", nodeTags: [], message: .logEntries(entries)))
        await hub.remove(id)
        let received = events.take(maximum: 100)
        #expect(received.count == 1)
        guard case .logEntries(let got)? = received.first else { return }
        #expect(got.entries.map(\.seq) == [1, 2])
    }
}
