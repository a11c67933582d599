import DVICProtocol
import DVICServer
import DVICTesting
import Foundation
import Testing

@Suite(.serialized) struct CommandTests {
    func waitDone(_ client: APIClient, _ id: String, timeout: Duration = .seconds(20)) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        _ = try await eventually(timeout: timeout) {
            last = try await client.get("/v1/commands/\(id)").object
            return last["state"] as? String == "done"
        }
        return last
    }

    @Test func fanOutToFiftyNodesWithEveryResultBack() async throws {
        let fleet = try await Fleet.start()
        let agents = try await fleet.agents(50, tags: ["hall"])
        let operatorClient = try await fleet.user("ops", role: "operator")
        let viewer = StreamClient()
        _ = try await viewer.connect(url: fleet.harness.streamURL, token: operatorClient.token!)
        viewer.send([.subscribe(Subscribe(subscriptionID: 1, kinds: 8, nodes: [], tags: [], metrics: [], minSeverity: .trace, text: ""))])
        try await Task.sleep(for: .milliseconds(200))
        let started = try await operatorClient.post("/v1/commands", ["targets": ["tags": ["hall"]], "command": "uname -a", "timeoutSeconds": 10])
        #expect(started.status == 202)
        let id = try #require(started.object["id"] as? String)
        let state = try await waitDone(operatorClient, id)
        let results = try #require(state["results"] as? [[String: Any]])
        #expect(results.count == 50)
        #expect(results.allSatisfy { $0["exitCode"] as? Int == 0 && ($0["stdout"] as? String)?.contains("Linux") == true })
        // Progress went out live, ending at 50 of 50.
        #expect(await viewer.waitFor { if case .commandProgress(let p) = $0 { p.commandID == id && p.done == 50 && p.total == 50 } else { false } })
        // The audit trail has it.
        let audit = try await fleet.admin.get("/v1/audit")
        let actions = (audit.object["entries"] as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
        #expect(actions.contains("command.run"))
        #expect(try await eventually { (try await fleet.admin.get("/v1/audit").object["entries"] as? [[String: Any]])?.contains { $0["action"] as? String == "command.done" } == true })
        await viewer.close()
        await fleet.stop(agents)
    }

    @Test func exitCodesTimeoutAndOfflineNodes() async throws {
        let fleet = try await Fleet.start { $0.commandGraceMilliseconds = 200 }
        let agents = try await fleet.agents(3)
        agents[2].disconnect()
        #expect(try await eventually { try await fleet.admin.get("/v1/nodes").array.filter { $0["status"] as? String == "online" }.count == 2 })
        let failing = try await fleet.admin.post("/v1/commands", ["targets": ["all": true], "command": "exit 3"])
        let state = try await waitDone(fleet.admin, try #require(failing.object["id"] as? String))
        let results = try #require(state["results"] as? [[String: Any]])
        #expect(results.filter { $0["exitCode"] as? Int == 3 }.count == 2)
        #expect(results.filter { $0["reason"] as? String == "lost" }.count == 1)

        let slow = try await fleet.admin.post("/v1/commands", ["targets": ["nodes": [agents[0].nodeID]], "command": "sleep 100", "timeoutSeconds": 0.3])
        let slowState = try await waitDone(fleet.admin, try #require(slow.object["id"] as? String))
        #expect((slowState["results"] as? [[String: Any]])?.first?["reason"] as? String == "timedOut")
        #expect(await agents[0].waitForMessage { if case .commandCancel = $0 { true } else { false } })
        await fleet.stop(agents)
    }

    @Test func cancelStopsARunningCommand() async throws {
        let fleet = try await Fleet.start()
        let agents = try await fleet.agents(2)
        let started = try await fleet.admin.post("/v1/commands", ["targets": ["all": true], "command": "sleep 100", "timeoutSeconds": 60])
        let id = try #require(started.object["id"] as? String)
        let cancel = try await fleet.admin.send("POST", "/v1/commands/\(id)/cancel")
        #expect(cancel.status == 202)
        let state = try await waitDone(fleet.admin, id)
        #expect((state["results"] as? [[String: Any]])?.allSatisfy { $0["reason"] as? String == "cancelled" } == true)
        let missing = try await fleet.admin.get("/v1/commands/c-nope")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")
        await fleet.stop(agents)
    }

    @Test func badRequestsAreClearErrors() async throws {
        let fleet = try await Fleet.start()
        let noTargets = try await fleet.admin.post("/v1/commands", ["targets": [String: String](), "command": "true"])
        #expect(noTargets.status == 400)
        let nobody = try await fleet.admin.post("/v1/commands", ["targets": ["tags": ["none"]], "command": "true"])
        #expect(nobody.status == 404)
        let malformed = try await fleet.admin.send("POST", "/v1/commands", body: Data("{not json".utf8))
        #expect(malformed.status == 400)
        await fleet.stop()
    }
}

@Suite(.serialized) struct TerminalTests {
    /// Two viewers share one session: the second joins late and gets the scrollback;
    /// both see output; the shell's exit closes it for both.
    @Test func brokeredSessionWithTwoViewers() async throws {
        let fleet = try await Fleet.start()
        let agent = try await fleet.agents(1).first!
        let ops = try await fleet.user("ops", role: "operator")
        let first = StreamClient()
        _ = try await first.connect(url: fleet.harness.streamURL, token: ops.token!)
        first.send([.ptyAttach(PtyAttach(nodeID: agent.nodeID, sessionID: "", rows: 24, cols: 80, argv: []))])
        #expect(await first.waitFor { if case .ptyAttached = $0 { true } else { false } })
        guard case .ptyAttached(let attached)? = first.messages.first(where: { if case .ptyAttached = $0 { true } else { false } }) else { return }
        #expect(await first.waitFor { if case .ptyOutput(let o) = $0 { String(decoding: o.data, as: UTF8.self) == "sim$ " } else { false } })

        let second = StreamClient()
        _ = try await second.connect(url: fleet.harness.streamURL, token: fleet.admin.token!)
        second.send([.ptyAttach(PtyAttach(nodeID: agent.nodeID, sessionID: attached.sessionID, rows: 24, cols: 80, argv: []))])
        #expect(await second.waitFor { if case .ptyAttached(let a) = $0 { String(decoding: a.scrollback, as: UTF8.self) == "sim$ " } else { false } })

        second.send([.ptyInput(PtyInput(sessionID: attached.sessionID, data: Array("echo hi\r".utf8)))])
        for client in [first, second] {
            #expect(await client.waitFor { if case .ptyOutput(let o) = $0 { String(decoding: o.data, as: UTF8.self) == "echo hi\r" } else { false } })
        }
        first.send([.ptyResize(PtyResize(sessionID: attached.sessionID, rows: 50, cols: 120))])
        #expect(await agent.waitForMessage { if case .ptyResize(let r) = $0 { r.rows == 50 && r.cols == 120 } else { false } })
        first.send([.ptyInput(PtyInput(sessionID: attached.sessionID, data: Array("exit 3".utf8)))])
        for client in [first, second] {
            #expect(await client.waitFor { if case .ptyClose(let c) = $0 { c.exitCode == 3 } else { false } })
        }
        let audit = try await fleet.admin.get("/v1/audit")
        let actions = (audit.object["entries"] as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
        #expect(actions.contains("terminal.open"))
        #expect(actions.contains("terminal.join"))
        #expect(try await eventually { (try await fleet.admin.get("/v1/audit").object["entries"] as? [[String: Any]])?.contains { $0["action"] as? String == "terminal.close" } == true })
        await first.close()
        await second.close()
        await fleet.stop([agent])
    }
}

/// Tags reach the agent connection without a registry hop (`NodeTagIndex`), and nodes
/// heard from are noted through the registry's inbox (`noteSeen`).
@Suite(.serialized) struct NodeTagStreamTests {
    @Test func tagFilteredLiveLogsAndLastSeen() async throws {
        let fleet = try await Fleet.start()
        let hall = try await fleet.agents(1, tags: ["hall"], prefix: "hall")
        let lab = try await fleet.agents(1, tags: ["lab"], prefix: "lab")
        let viewer = StreamClient()
        _ = try await viewer.connect(url: fleet.harness.streamURL, token: fleet.admin.token!)
        viewer.send([.subscribe(Subscribe(subscriptionID: 1, kinds: 4, nodes: [], tags: ["hall"], metrics: [], minSeverity: .trace, text: ""))])
        try await Task.sleep(for: .milliseconds(200))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for agent in lab + hall {
            agent.openStream(1, key: "demo")
            agent.sendLogs(1, firstSeq: 1, texts: ["from \(agent.nodeID)"], timestamp: now)
        }
        #expect(await hall[0].waitForAck(1, seq: 1))
        #expect(await lab[0].waitForAck(1, seq: 1))
        #expect(await viewer.waitFor { if case .logEntries(let e) = $0 { e.nodeID == hall[0].nodeID } else { false } })
        #expect(!viewer.messages.contains { if case .logEntries(let e) = $0 { e.nodeID == lab[0].nodeID } else { false } })
        // The sighting was taken in: lastSeen moved, the node is online.
        #expect(try await eventually {
            let node = try await fleet.admin.get("/v1/nodes/\(hall[0].nodeID)").object
            // Same fixed-width UTC form, so text order is time order.
            return (node["lastSeen"] as? String ?? "") >= APIModel.time(now - 1000) && node["status"] as? String == "online"
        })
        await viewer.close()
        await fleet.stop(hall + lab)
    }
}
