import DVICProtocol
import DVICServer
import DVICTesting
import Foundation

/// Shared steps of the integration tests: a server, an admin, enrolled agents.
struct Fleet {
    let harness: FleetHarness
    let admin: APIClient

    static func start(configure: @escaping @Sendable (inout ServerConfiguration) -> Void = { _ in }) async throws -> Fleet {
        let harness = try await FleetHarness.start(configure: configure)
        return Fleet(harness: harness, admin: try await harness.adminClient())
    }

    func enrollmentToken(name: String = "", tags: [String] = [], ttl: Int = 600) async throws -> String {
        let reply = try await admin.post("/v1/enrollments", ["name": name, "tags": tags, "ttlSeconds": ttl])
        guard reply.status == 201, let token = reply.object["token"] as? String else {
            throw HarnessError("enrollment failed: \(reply.status) \(reply.text)")
        }
        return token
    }

    /// Enrolls and connects `count` simulated agents.
    func agents(_ count: Int, tags: [String] = [], prefix: String = "sim", autoRespond: Bool = true) async throws -> [SimulatedAgent] {
        var agents: [SimulatedAgent] = []
        for index in 0..<count {
            let token = try await enrollmentToken(name: "\(prefix)-\(index)", tags: tags)
            let agent = try await SimulatedAgent.enroll(baseURL: harness.baseURL, token: token, name: "\(prefix)-\(index)", autoRespond: autoRespond)
            try await agent.connect(url: harness.agentURL)
            agents.append(agent)
        }
        return agents
    }

    func user(_ name: String, role: String) async throws -> APIClient {
        let reply = try await admin.post("/v1/users", ["username": name, "password": "password-\(name)", "role": role])
        guard reply.status == 201 else { throw HarnessError("user: \(reply.status) \(reply.text)") }
        return try await APIClient.login(baseURL: harness.baseURL, username: name, password: "password-\(name)")
    }

    func stop(_ agents: [SimulatedAgent] = []) async {
        for agent in agents { agent.disconnect() }
        await harness.stop()
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

let now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
