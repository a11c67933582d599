import DVICLog
import DVICTesting
import Foundation
import Glibc
import Testing

/// The real `dvic-agent` against the real `dvic-server`, as separate processes: kill
/// either with SIGKILL while a demo is logging, restart it, and every line is stored
/// exactly once.
@Suite(.serialized) struct AgentEndToEndTests {
    func startServer(port: Int, data: String) async throws -> BuiltProgram {
        let server = try BuiltProgram("dvic-server", ["--host", "127.0.0.1", "--port", "\(port)", "--data", data, "--no-local-agent"], environment: ["DVIC_ADMIN_PASSWORD": "e2e-password"])
        let base = "http://127.0.0.1:\(port)"
        let up = await eventually(timeout: .seconds(20)) { (try? await APIClient(baseURL: base).get("/healthz").status) == 200 }
        guard up else { throw HarnessError("dvic-server did not start") }
        return server
    }

    @Test func everyLineExactlyOnceThroughServerAndAgentKills() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-e2e-\(UUID().uuidString)").path
        let logDirectory = directory + "/logs"
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = FreePort.loopback()
        let base = "http://127.0.0.1:\(port)"
        var server = try await startServer(port: port, data: directory + "/data")
        let admin = try await APIClient.login(baseURL: base, username: "admin", password: "e2e-password")
        let token = try #require(try await admin.post("/v1/enrollments", ["name": "e2e"]).object["token"] as? String)
        let agentArguments = ["--server", base, "--enroll-token", token, "--state", directory + "/state", "--log-dir", logDirectory, "--name", "e2e"]
        var agent = try BuiltProgram("dvic-agent", agentArguments, environment: ["DVIC_NO_TRIM": "1"])
        #expect(await eventually(timeout: .seconds(20)) { (try? await admin.get("/v1/nodes").array.first?["status"] as? String) == "online" })

        let log = try DVICLog.open("e2e-demo", directory: logDirectory)
        var written = 0
        func write(_ count: Int) async {
            for _ in 0..<count {
                written += 1
                log.info("e2e line \(written)")
                if written % 20 == 0 { try? await Task.sleep(for: .milliseconds(20)) }
            }
        }
        func stored() async -> [String] {
            guard let client = try? await APIClient.login(baseURL: base, username: "admin", password: "e2e-password"),
                let reply = try? await client.get("/v1/logs?q=e2e&limit=10000")
            else { return [] }
            return (reply.object["entries"] as? [[String: Any]])?.compactMap { $0["text"] as? String } ?? []
        }

        await write(200)
        // The server dies mid-stream; lines keep coming; it comes back.
        await server.kill()
        await write(200)
        server = try await startServer(port: port, data: directory + "/data")
        await write(100)
        #expect(await eventually(timeout: .seconds(30)) { await stored().count >= written })
        var texts = await stored()
        #expect(texts.count == written)
        #expect(Set(texts).count == texts.count)

        // The agent dies mid-stream; lines keep coming; it comes back with its state.
        await agent.kill()
        await write(200)
        agent = try BuiltProgram("dvic-agent", agentArguments, environment: ["DVIC_NO_TRIM": "1"])
        await write(100)
        #expect(await eventually(timeout: .seconds(30)) { await stored().count >= written })
        texts = await stored()
        #expect(texts.count == written)
        #expect(Set(texts).count == texts.count)
        #expect(Set(texts) == Set((1...written).map { "e2e line \($0)" }))
        log.close()
        await agent.kill()
        await server.kill()
    }
}
