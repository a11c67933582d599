import DVICProtocol
import DVICServer
import DVICTesting
import Foundation
import Testing

/// What each role may and may not do; every endpoint and the stream check.
@Suite(.serialized) struct AccessTests {
    @Test func rolesAreCheckedOnEveryEndpoint() async throws {
        let fleet = try await Fleet.start()
        let agents = try await fleet.agents(1)
        let viewer = try await fleet.user("vera", role: "viewer")
        let ops = try await fleet.user("otto", role: "operator")
        let anonymous = APIClient(baseURL: fleet.harness.baseURL)
        let node = agents[0].nodeID
        let reads = ["/v1/nodes", "/v1/nodes/\(node)", "/v1/logs", "/v1/nodes/\(node)/metrics?name=cpu.total"]
        for path in reads {
            #expect(try await viewer.get(path).status == 200, "viewer GET \(path)")
            let refused = try await anonymous.get(path)
            #expect(refused.status == 401, "anonymous GET \(path)")
            #expect(refused.errorCode == "unauthorized")
        }
        let command: [String: Any] = ["targets": ["all": true], "command": "true"]
        #expect(try await viewer.post("/v1/commands", command).status == 403)
        #expect(try await viewer.post("/v1/commands", command).errorCode == "forbidden")
        #expect(try await ops.post("/v1/commands", command).status == 202)
        #expect(try await viewer.get("/v1/audit").status == 403)
        #expect(try await ops.get("/v1/audit").status == 200)
        for (path, body) in [("/v1/enrollments", ["name": "x"]), ("/v1/devices", ["name": "x"]), ("/v1/users", ["username": "u", "password": "password1", "role": "viewer"])] as [(String, [String: Any])] {
            #expect(try await ops.post(path, body).status == 403, "operator POST \(path)")
            #expect(try await viewer.post(path, body).status == 403, "viewer POST \(path)")
            #expect(try await anonymous.post(path, body).status == 401, "anonymous POST \(path)")
        }
        #expect(try await viewer.send("DELETE", "/v1/nodes/\(node)").status == 403)
        #expect(try await anonymous.get("/healthz").status == 200)

        // A viewer's stream refuses terminals.
        let stream = StreamClient()
        let ready = try await stream.connect(url: fleet.harness.streamURL, token: viewer.token!)
        #expect(ready.role == "viewer")
        stream.send([.ptyAttach(PtyAttach(nodeID: node, sessionID: "", rows: 24, cols: 80, argv: []))])
        #expect(await stream.waitFor { if case .error(let e) = $0 { e.code == "forbidden" } else { false } })
        #expect(!agents[0].received.contains { if case .ptyOpen = $0 { true } else { false } })
        await stream.close()

        // A bad token on the stream is refused.
        let intruder = StreamClient()
        await #expect(throws: (any Error).self) { _ = try await intruder.connect(url: fleet.harness.streamURL, token: "dvt_forged") }
        // A foreign Origin cannot open the stream at all.
        let foreign = StreamClient()
        await #expect(throws: (any Error).self) { _ = try await foreign.connect(url: fleet.harness.streamURL, token: viewer.token!, origin: "http://evil.example") }
        await fleet.stop(agents)
    }

    @Test func loginRefusesWrongPasswordsAndPasswordsAreNotStoredInClear() async throws {
        let fleet = try await Fleet.start()
        let wrong = try await APIClient(baseURL: fleet.harness.baseURL).post("/v1/login", ["username": "admin", "password": "nope"])
        #expect(wrong.status == 401)
        let nobody = try await APIClient(baseURL: fleet.harness.baseURL).post("/v1/login", ["username": "ghost", "password": "nope"])
        #expect(nobody.status == 401)
        _ = try await fleet.user("pat", role: "viewer")
        await fleet.harness.stop()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fleet.harness.dataDirectory + "/dvic.sqlite"))
        #expect(bytes.range(of: Data("password-pat".utf8)) == nil)
        #expect(bytes.range(of: Data(fleet.harness.adminPassword.utf8)) == nil)
    }
}

@Suite(.serialized) struct KeepaliveEndpointTests {
    @Test func devicesPostKeepalives() async throws {
        let fleet = try await Fleet.start { $0.keepaliveIntervalSeconds = 1 }
        let first = try await fleet.admin.post("/v1/devices", ["name": "esp32-a", "tags": ["sensors"]])
        let second = try await fleet.admin.post("/v1/devices", ["name": "esp32-b"])
        #expect(first.status == 201)
        let token = try #require(first.object["token"] as? String)
        let id = try #require(first.object["id"] as? String)
        let otherID = try #require(second.object["id"] as? String)
        let device = APIClient(baseURL: fleet.harness.baseURL, token: token)
        let body = #"{"uptime_ms": 123456, "seq": 17, "metrics": {"temp_c": 41.5, "rssi_dbm": -61, "heap_free": 201344}, "logs": [{"level": "info", "msg": "booted"}]}"#
        let ok = try await device.send("POST", "/v1/keepalive", body: Data(body.utf8))
        #expect(ok.status == 200)
        #expect(ok.object["ok"] as? Bool == true)
        #expect(ok.object["interval_s"] as? Int == 1)
        // The same keepalive resent: its log is not stored twice.
        _ = try await device.send("POST", "/v1/keepalive", body: Data(body.utf8))
        let status = try await fleet.admin.get("/v1/nodes/\(id)")
        #expect(status.object["status"] as? String == "online")
        #expect(status.object["kind"] as? String == "device")
        #expect((status.object["metrics"] as? [String: Double])?["temp_c"] == 41.5)
        #expect(try await eventually { (try await fleet.admin.get("/v1/logs?node=\(id)").object["entries"] as? [[String: Any]])?.count == 1 })

        let malformed = try await device.send("POST", "/v1/keepalive", body: Data("{oops".utf8))
        #expect(malformed.status == 400)
        #expect(malformed.errorCode == "malformed_json")
        let badField = try await device.send("POST", "/v1/keepalive", body: Data(#"{"metrics": {"t": "hot"}}"#.utf8))
        #expect(badField.status == 400)
        #expect(badField.errorCode == "invalid_field")
        let huge = try await device.send("POST", "/v1/keepalive", body: Data(repeating: 0x20, count: 20_000))
        #expect(huge.status == 413)
        let stranger = try await APIClient(baseURL: fleet.harness.baseURL, token: "dvd_wrong").send("POST", "/v1/keepalive", body: Data("{}".utf8))
        #expect(stranger.status == 401)
        let anonymous = try await APIClient(baseURL: fleet.harness.baseURL).send("POST", "/v1/keepalive", body: Data("{}".utf8))
        #expect(anonymous.status == 401)
        // Nothing of the other device was touched.
        let other = try await fleet.admin.get("/v1/nodes/\(otherID)")
        #expect(other.object["status"] as? String == "offline")
        #expect((other.object["metrics"] as? [String: Double])?.isEmpty == true)
        // Three missed intervals later the device is offline.
        #expect(try await eventually(timeout: .seconds(8)) { try await fleet.admin.get("/v1/nodes/\(id)").object["status"] as? String == "offline" })
        await fleet.stop()
    }
}

@Suite(.serialized) struct PrometheusTests {
    @Test func metricsEndpointIsPrometheusText() async throws {
        let fleet = try await Fleet.start()
        let agents = try await fleet.agents(2)
        agents[0].describe([MetricDescriptor(id: 0, name: "cpu.total", unit: "%", scale: 1, kind: .gauge)])
        agents[0].send([.metricSample(MetricSample(timestamp: now, values: [MetricValue(id: 0, value: 12.5)]))])
        try await Task.sleep(for: .milliseconds(300))
        let reply = try await APIClient(baseURL: fleet.harness.baseURL).get("/metrics")
        #expect(reply.status == 200)
        #expect(reply.contentType?.hasPrefix("text/plain") == true)
        let lines = reply.text.split(separator: "\n")
        let sample = try Regex(#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?([0-9.eE+-]+|NaN|\+Inf|-Inf)$"#)
        for line in lines where !line.hasPrefix("#") {
            #expect(line.wholeMatch(of: sample) != nil, "not exposition format: \(line)")
        }
        #expect(reply.text.contains("dvic_node_up{node=\"\(agents[0].nodeID)\""))
        #expect(reply.text.contains("dvic_node_cpu_percent{node=\"\(agents[0].nodeID)\",name=\"sim-0\"} 12.5"))
        #expect(reply.text.contains("dvic_agent_connections 2"))
        #expect(reply.text.contains("# TYPE dvic_frames_in_total counter"))
        await fleet.stop(agents)
    }
}
