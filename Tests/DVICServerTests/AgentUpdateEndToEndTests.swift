import DVICServer
import DVICTesting
import Foundation
import Glibc
import Testing

/// A real `dvic-agent` process (spawned with `Spawn`) updated by a real server: version A
/// to version B with a real binary swap and exec in place, then a tampered build that the
/// agent refuses, then a build that fails to start and is rolled back, then a build that
/// passes its trial but cannot reach the server after the exec, which the post-exec guard
/// rolls back.
@Suite(.serialized) struct AgentUpdateEndToEndTests {
    static let debugAgent = BuiltProgram.binaries.appendingPathComponent("dvic-agent").path

    /// Starts a rollout of `version` to `node` and waits until it ends; its final state.
    func rollout(_ version: String, node: String, client: APIClient) async throws -> [String: Any] {
        let reply = try await client.post("/v1/updates", ["targets": ["nodes": [node]], "version": version, "batchSize": 1, "timeoutSeconds": 90])
        guard reply.status == 202, let id = reply.object["id"] as? String else { throw HarnessError("update: \(reply.status) \(reply.text)") }
        var state: [String: Any] = [:]
        _ = await eventually(timeout: .seconds(120)) {
            state = (try? await client.get("/v1/updates/\(id)").object) ?? [:]
            return state["state"] as? String != "running"
        }
        return state
    }

    /// How many descriptors of each kind `pid` holds (sockets counted together).
    func openDescriptors(_ pid: pid_t) -> [String: Int] {
        var kinds: [String: Int] = [:]
        for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)") else { continue }
            kinds[target.hasPrefix("socket:") ? "socket" : target, default: 0] += 1
        }
        return kinds
    }

    func node(_ id: String, client: APIClient) async throws -> [String: Any] {
        try await client.get("/v1/nodes/\(id)").object
    }

    @Test func updateSwapsTheBinaryThenRefusesATamperedBuildAndRollsBackBuildsThatDoNotComeBack() async throws {
        let signer = ReleaseSigner()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-update-\(UUID().uuidString)").path
        let bin = directory + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/logs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fleet = try await Fleet.start { $0.releaseKeyText = signer.publicKeyText }

        // Version A is the debug build as it is; B is the same bytes stamped 0.1.0-b.
        let versionA = try Data(contentsOf: URL(fileURLWithPath: Self.debugAgent))
        let versionB = try ReleaseSigner.restamp(versionA, version: "0.1.0-b")
        let executable = bin + "/dvic-agent"
        try ExecutableFile.write(versionA, to: executable)
        #expect(try await signer.upload(versionB, client: fleet.admin).status == 201)

        let token = try await fleet.enrollmentToken(name: "updated")
        let log = open(directory + "/agent.log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let null = open("/dev/null", O_RDWR)
        var environment = ProcessInfo.processInfo.environment
        environment["DVIC_NO_TRIM"] = "1"
        let pid = try Spawn.start(executable, [
            "--server", fleet.harness.baseURL, "--enroll-token", token, "--state", directory + "/state", "--log-dir", directory + "/logs",
            "--name", "updated", "--journald-units", "-", "--release-key", signer.publicKeyText, "--update-timeout", "8",
        ], environment: environment, stdin: null, stdout: log, stderr: log)
        close(log)
        close(null)

        var nodeID = ""
        #expect(await eventually(timeout: .seconds(60)) {
            guard let node = try? await fleet.admin.get("/v1/nodes").array.first, node["status"] as? String == "online",
                node["agentVersion"] as? String == "0.1.0"
            else { return false }
            nodeID = node["id"] as? String ?? ""
            return true
        })
        try #require(!nodeID.isEmpty)

        let descriptorsBefore = openDescriptors(pid)
        // A → B: swapped on disk, exec'd in place (same pid), back online as 0.1.0-b.
        let toB = try await rollout("0.1.0-b", node: nodeID, client: fleet.admin)
        #expect(toB["state"] as? String == "succeeded", "\(toB)")
        #expect(await eventually(timeout: .seconds(30)) { (try? await node(nodeID, client: fleet.admin))?["agentVersion"] as? String == "0.1.0-b" })
        #expect(kill(pid, 0) == 0, "the agent process is the same one")
        // The exec in place leaked nothing: the new image holds what a fresh agent holds (one
        // server connection, the same epoll sets), not the old image's sockets as well.
        var descriptorsAfter: [String: Int] = [:]
        #expect(await eventually(timeout: .seconds(10)) {
            descriptorsAfter = openDescriptors(pid)
            return descriptorsAfter["socket"] == descriptorsBefore["socket"] && descriptorsAfter["anon_inode:[eventpoll]"] == descriptorsBefore["anon_inode:[eventpoll]"]
        }, "before the update \(descriptorsBefore), after \(descriptorsAfter)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") == executable)
        #expect(try Data(contentsOf: URL(fileURLWithPath: executable)) == versionB)
        #expect(try Data(contentsOf: URL(fileURLWithPath: executable + ".previous")) == versionA)
        // The restarted build said so once connected.
        #expect(await eventually(timeout: .seconds(30)) { !FileManager.default.fileExists(atPath: directory + "/state/update-pending") })

        // C is signed, then changed on the server's disk: the agent's hash check refuses it.
        let versionC = try ReleaseSigner.restamp(versionA, version: "0.1.0-c")
        #expect(try await signer.upload(versionC, client: fleet.admin).status == 201)
        let storedC = fleet.harness.dataDirectory + "/agent-builds/0.1.0-c/dvic-agent"
        var tampered = try Data(contentsOf: URL(fileURLWithPath: storedC))
        tampered[tampered.count - 100] ^= 0xff
        try ExecutableFile.write(tampered, to: storedC)
        let toC = try await rollout("0.1.0-c", node: nodeID, client: fleet.admin)
        #expect(toC["state"] as? String == "failed")
        let refused = (toC["nodes"] as? [[String: Any]])?.first
        #expect(refused?["state"] as? String == "failed")
        #expect((refused?["message"] as? String)?.contains("refused") == true, "\(String(describing: refused))")
        #expect((refused?["message"] as? String)?.contains("SHA-256") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: executable)) == versionB)
        #expect(!FileManager.default.fileExists(atPath: bin + "/.dvic-agent.incoming"))

        // D is signed and intact but exits at once: its trial fails, B keeps running.
        let versionD = ReleaseSigner.script(version: "0.1.0-d", status: 3)
        #expect(try await signer.upload(versionD, client: fleet.admin).status == 201)
        let toD = try await rollout("0.1.0-d", node: nodeID, client: fleet.admin)
        #expect(toD["state"] as? String == "failed")
        let rolledBack = (toD["nodes"] as? [[String: Any]])?.first
        #expect((rolledBack?["message"] as? String)?.contains("rolled back") == true, "\(String(describing: rolledBack))")
        #expect((rolledBack?["message"] as? String)?.contains("status 3") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: executable)) == versionB)
        #expect(kill(pid, 0) == 0)
        #expect(await eventually(timeout: .seconds(30)) {
            guard let node = try? await node(nodeID, client: fleet.admin) else { return false }
            return node["status"] as? String == "online" && node["agentVersion"] as? String == "0.1.0-b"
        })

        // E passes its trial, but once exec'd it runs a real agent (stamped 0.1.0-e) pointed at
        // a closed port: the post-exec guard puts B back and execs it, and B says rolledBack.
        let realE = directory + "/other/dvic-agent-e"
        try FileManager.default.createDirectory(atPath: directory + "/other", withIntermediateDirectories: true)
        try ExecutableFile.write(ReleaseSigner.restamp(versionA, version: "0.1.0-e"), to: realE)
        let versionE = Data("""
            #!/bin/sh
            if [ "$1" = "--update-trial" ]; then exit 0; fi
            exec \(realE) "$@" --server http://127.0.0.1:1

            """.utf8) + ReleaseSigner.stamp("0.1.0-e")
        #expect(try await signer.upload(versionE, client: fleet.admin).status == 201)
        let toE = try await rollout("0.1.0-e", node: nodeID, client: fleet.admin)
        #expect(toE["state"] as? String == "failed")
        let guarded = (toE["nodes"] as? [[String: Any]])?.first
        #expect((guarded?["message"] as? String)?.contains("rolled back") == true, "\(String(describing: guarded))")
        #expect((guarded?["message"] as? String)?.contains("did not reach the server") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: executable)) == versionB)
        #expect(kill(pid, 0) == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") == executable)
        #expect(await eventually(timeout: .seconds(30)) {
            guard let node = try? await node(nodeID, client: fleet.admin) else { return false }
            return node["status"] as? String == "online" && node["agentVersion"] as? String == "0.1.0-b"
        })

        kill(pid, SIGTERM)
        if await Spawn.wait(pid, timeout: .seconds(10)) == nil {
            kill(pid, SIGKILL)
            _ = await Spawn.wait(pid, timeout: .seconds(10))
        }
        await fleet.stop()
    }

    @Test func anAgentWithoutAReleaseKeyRefusesEveryBuild() async throws {
        let signer = ReleaseSigner()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-update-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/logs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fleet = try await Fleet.start { $0.releaseKeyText = signer.publicKeyText }
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.debugAgent))
        let executable = directory + "/bin/dvic-agent"
        try ExecutableFile.write(original, to: executable)
        #expect(try await signer.upload(try ReleaseSigner.restamp(original, version: "0.1.0-b"), client: fleet.admin).status == 201)
        let token = try await fleet.enrollmentToken(name: "keyless")
        let null = open("/dev/null", O_RDWR)
        let pid = try Spawn.start(executable, [
            "--server", fleet.harness.baseURL, "--enroll-token", token, "--state", directory + "/state", "--log-dir", directory + "/logs",
            "--name", "keyless", "--journald-units", "-",
        ], environment: ProcessInfo.processInfo.environment.merging(["DVIC_NO_TRIM": "1"]) { $1 }, stdin: null, stdout: null, stderr: null)
        close(null)
        var nodeID = ""
        #expect(await eventually(timeout: .seconds(60)) {
            guard let node = try? await fleet.admin.get("/v1/nodes").array.first, node["status"] as? String == "online" else { return false }
            nodeID = node["id"] as? String ?? ""
            return true
        })
        let state = try await rollout("0.1.0-b", node: nodeID, client: fleet.admin)
        #expect(state["state"] as? String == "failed")
        let node = (state["nodes"] as? [[String: Any]])?.first
        #expect((node?["message"] as? String)?.contains("no release key") == true, "\(String(describing: node))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: executable)) == original)
        kill(pid, SIGKILL)
        _ = await Spawn.wait(pid, timeout: .seconds(10))
        await fleet.stop()
    }
}
