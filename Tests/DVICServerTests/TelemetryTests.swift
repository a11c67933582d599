import DVICProtocol
import DVICTesting
import Foundation
import Testing

@Suite(.serialized) struct TelemetryTests {
    static let descriptors = [
        MetricDescriptor(id: 0, name: "cpu.total", unit: "%", scale: 1, kind: .gauge),
        MetricDescriptor(id: 1, name: "temp.cpu", unit: "C", scale: 1, kind: .gauge),
    ]

    @Test func metricsAreQueryableAndLive() async throws {
        let fleet = try await Fleet.start()
        let agent = try await fleet.agents(1).first!
        let viewer = StreamClient()
        _ = try await viewer.connect(url: fleet.harness.streamURL, token: fleet.admin.token!)
        viewer.send([.subscribe(Subscribe(subscriptionID: 1, kinds: 2, nodes: [agent.nodeID], tags: [], metrics: ["cpu.total"], minSeverity: .trace, text: ""))])
        try await Task.sleep(for: .milliseconds(200))
        agent.describe(Self.descriptors)
        let start = now - 10_000
        for second in 0..<10 {
            agent.send([.metricSample(MetricSample(timestamp: start + Int64(second) * 1000, values: [
                MetricValue(id: 0, value: Double(second) * 1.5), MetricValue(id: 1, value: 40 + Double(second) / 10),
            ]))])
        }
        #expect(await viewer.waitFor { message in
            if case .metricPoints(let points) = message { return points.points.contains { $0.name == "cpu.total" && $0.value == 13.5 } }
            return false
        })
        // Live points carry only the metric subscribed to.
        #expect(!viewer.messages.contains { if case .metricPoints(let p) = $0 { p.points.contains { $0.name == "temp.cpu" } } else { false } })
        #expect(try await eventually {
            let reply = try await fleet.admin.get("/v1/nodes/\(agent.nodeID)/metrics?name=cpu.total&since=\(start)&until=\(now + 1000)")
            return (reply.object["points"] as? [[Any]])?.count == 10
        })
        let reply = try await fleet.admin.get("/v1/nodes/\(agent.nodeID)/metrics?name=cpu.total&since=\(start)&until=\(now + 1000)&step=5s")
        let points = try #require(reply.object["points"] as? [[Any]])
        #expect(points.count == 2 || points.count == 3)
        #expect(points.first?.first is String)
        let detail = try await fleet.admin.get("/v1/nodes/\(agent.nodeID)")
        #expect((detail.object["metrics"] as? [String: Double])?["cpu.total"] == 13.5)
        let names = try await fleet.admin.get("/v1/nodes/\(agent.nodeID)/metrics")
        #expect((names.object["names"] as? [String])?.contains("temp.cpu") == true)
        await viewer.close()
        await fleet.stop([agent])
    }

    @Test func logsAreStoredSearchableAndLive() async throws {
        let fleet = try await Fleet.start()
        let agent = try await fleet.agents(1).first!
        let viewer = StreamClient()
        _ = try await viewer.connect(url: fleet.harness.streamURL, token: fleet.admin.token!)
        viewer.send([.subscribe(Subscribe(subscriptionID: 1, kinds: 4, nodes: [], tags: [], metrics: [], minSeverity: .trace, text: ""))])
        try await Task.sleep(for: .milliseconds(200))
        agent.openStream(1, key: "demo:abcdefgh1234")
        agent.sendLogs(1, firstSeq: 1, texts: ["camera ready", "fps dropped to 12", "caf\u{e9} ✓ unicode"], timestamp: now)
        agent.sendLogs(1, firstSeq: 4, texts: ["motor overheated"], timestamp: now + 10, severity: .error)
        #expect(await agent.waitForAck(1, seq: 4))
        #expect(await viewer.waitFor { if case .logEntries(let e) = $0 { e.entries.contains { $0.text == "motor overheated" } } else { false } })
        let all = try await fleet.admin.get("/v1/logs?node=\(agent.nodeID)")
        #expect((all.object["entries"] as? [[String: Any]])?.count == 4)
        let search = try await fleet.admin.get("/v1/logs?q=camera")
        let entries = try #require(search.object["entries"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["text"] as? String == "camera ready")
        #expect(entries.first?["stream"] as? String == "demo:abcdefgh1234")
        #expect((entries.first?["ts"] as? String)?.hasSuffix("Z") == true)
        let errors = try await fleet.admin.get("/v1/logs?level=error")
        #expect((errors.object["entries"] as? [[String: Any]])?.map { $0["text"] as? String } == ["motor overheated"])
        let bad = try await fleet.admin.get("/v1/logs?level=loud")
        #expect(bad.status == 400)
        #expect(bad.errorCode == "invalid_request")
        await viewer.close()
        await fleet.stop([agent])
    }

    /// Send, drop the connection, resend from the resume point: every line once.
    /// Many agents' logs at once: every entry reaches a viewer following all nodes,
    /// in order per stream, however the server groups them into WebSocket messages.
    @Test func aViewerFollowingEveryNodeGetsEveryEntry() async throws {
        let fleet = try await Fleet.start()
        let agents = try await fleet.agents(20)
        let viewer = StreamClient(keepsMessages: true)
        _ = try await viewer.connect(url: fleet.harness.streamURL, token: fleet.admin.token!)
        viewer.send([.subscribe(Subscribe(subscriptionID: 1, kinds: 4, nodes: [], tags: [], metrics: [], minSeverity: .trace, text: ""))])
        try await Task.sleep(for: .milliseconds(200))
        for agent in agents { agent.openStream(1, key: "demo:flood") }
        for batch in 0..<25 {
            for agent in agents {
                agent.sendLogs(1, firstSeq: UInt64(batch * 8 + 1), texts: (0..<8).map { "line \(batch * 8 + $0 + 1)" }, timestamp: now)
            }
        }
        for agent in agents { #expect(await agent.waitForAck(1, seq: 200)) }
        func received() -> [String: [UInt64]] {
            var seqs: [String: [UInt64]] = [:]
            for case .logEntries(let entries) in viewer.messages { seqs[entries.nodeID, default: []] += entries.entries.map(\.seq) }
            return seqs
        }
        #expect(try await eventually { received().values.reduce(0) { $0 + $1.count } >= 4_000 })
        let seqs = received()
        #expect(seqs.count == 20, "closed: \(viewer.closeReason ?? "no")")
        for agent in agents { #expect(seqs[agent.nodeID] == Array(1...200)) }
        await viewer.close()
        await fleet.stop(agents)
    }

    @Test func replayAfterReconnectIsStoredOnce() async throws {
        let fleet = try await Fleet.start()
        let agent = try await fleet.agents(1).first!
        agent.openStream(1, key: "demo:replay12345")
        agent.sendLogs(1, firstSeq: 1, texts: (1...50).map { "line \($0)" }, timestamp: now)
        #expect(await agent.waitForAck(1, seq: 50))
        agent.disconnect()
        let welcome = try await agent.connect(url: fleet.harness.agentURL)
        #expect(welcome.resume == [ResumePoint(key: "demo:replay12345", lastSeq: 50)])
        // A careless agent resends everything, plus ten new lines.
        agent.openStream(3, key: "demo:replay12345")
        agent.sendLogs(3, firstSeq: 1, texts: (1...60).map { "line \($0)" }, timestamp: now)
        #expect(await agent.waitForAck(3, seq: 60))
        let reply = try await fleet.admin.get("/v1/logs?node=\(agent.nodeID)&limit=1000")
        let texts = (reply.object["entries"] as? [[String: Any]])?.compactMap { $0["text"] as? String } ?? []
        #expect(texts.count == 60)
        #expect(Set(texts).count == 60)
        await fleet.stop([agent])
    }

    /// Acked lines survive a graceful restart of the server; resume points too.
    @Test func ackedLinesSurviveARestart() async throws {
        let fleet = try await Fleet.start()
        let agent = try await fleet.agents(1).first!
        agent.openStream(1, key: "demo:restart1234")
        agent.sendLogs(1, firstSeq: 1, texts: (1...20).map { "before \($0)" }, timestamp: now)
        #expect(await agent.waitForAck(1, seq: 20))
        let directory = fleet.harness.dataDirectory
        await fleet.stop([agent])
        let again = try await FleetHarness.start(dataDirectory: directory)
        let welcome = try await agent.connect(url: again.agentURL)
        #expect(welcome.resume.first?.lastSeq == 20)
        let admin = try await again.adminClient()
        let reply = try await admin.get("/v1/logs?limit=100")
        #expect((reply.object["entries"] as? [[String: Any]])?.count == 20)
        agent.disconnect()
        await again.stop()
    }

    @Test func demoStatesAreShownPerNode() async throws {
        let fleet = try await Fleet.start()
        let agent = try await fleet.agents(1).first!
        agent.send([.processStates(ProcessStates(processes: [
            DemoProcess(key: "demo:aaaabbbbcccc", name: "camera-demo", pid: 1234, startTicks: 5, state: .running, changedAt: now),
            DemoProcess(key: "demo:ddddeeeeffff", name: "old-demo", pid: 99, startTicks: 5, state: .exited, changedAt: now),
        ]))])
        #expect(try await eventually {
            let demos = try await fleet.admin.get("/v1/nodes").array.first?["demos"] as? [[String: Any]]
            return demos?.count == 2 && demos?.first?["state"] as? String == "running"
        })
        await fleet.stop([agent])
    }
}
