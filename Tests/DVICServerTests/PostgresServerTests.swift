import DVICProtocol
import DVICServer
import DVICTesting
import Foundation
import Testing

/// The same server on PostgreSQL (`--database postgres://…`): enrollment, logs with
/// ack-after-commit and replay dedupe, full-text search, metrics and a command.
/// `tools/test` starts a throwaway PostgreSQL and sets `DVIC_TEST_POSTGRES_URL`.
@Suite(.serialized) struct PostgresServerTests {
    static let url = ProcessInfo.processInfo.environment["DVIC_TEST_POSTGRES_URL"]
    static let required = ProcessInfo.processInfo.environment["CI"] != nil || ProcessInfo.processInfo.environment["DVIC_REQUIRE_POSTGRES"] == "1"

    @Test func serverOnPostgreSQL() async throws {
        guard let url = Self.url else {
            if Self.required { Issue.record("DVIC_TEST_POSTGRES_URL is not set: run `tools/postgres start` (tools/test does)") }
            return
        }
        let schema = "srv_" + UUID().uuidString.prefix(8).lowercased()
        let harness = try await FleetHarness.start(databaseURL: url, postgresSchema: schema)
        let fleet = Fleet(harness: harness, admin: try await harness.adminClient())
        let agent = try await fleet.agents(1).first!
        agent.openStream(1, key: "demo:pgstream0001")
        agent.sendLogs(1, firstSeq: 1, texts: (1...30).map { "pg line \($0) camera" }, timestamp: now)
        #expect(await agent.waitForAck(1, seq: 30))
        agent.disconnect()
        let welcome = try await agent.connect(url: harness.agentURL)
        #expect(welcome.resume == [ResumePoint(key: "demo:pgstream0001", lastSeq: 30)])
        agent.openStream(2, key: "demo:pgstream0001")
        agent.sendLogs(2, firstSeq: 21, texts: (21...40).map { "pg line \($0) camera" }, timestamp: now)
        #expect(await agent.waitForAck(2, seq: 40))
        let logs = try await fleet.admin.get("/v1/logs?q=camera&limit=1000")
        #expect((logs.object["entries"] as? [[String: Any]])?.count == 40)
        agent.describe([MetricDescriptor(id: 0, name: "cpu.total", unit: "%", scale: 1, kind: .gauge)])
        agent.send([.metricSample(MetricSample(timestamp: now, values: [MetricValue(id: 0, value: 42)]))])
        #expect(try await eventually { (try await fleet.admin.get("/v1/nodes/\(agent.nodeID)").object["metrics"] as? [String: Double])?["cpu.total"] == 42 })
        let command = try await fleet.admin.post("/v1/commands", ["targets": ["all": true], "command": "echo pg"])
        let id = try #require(command.object["id"] as? String)
        #expect(try await eventually { try await fleet.admin.get("/v1/commands/\(id)").object["state"] as? String == "done" })
        await fleet.stop([agent])
    }
}
