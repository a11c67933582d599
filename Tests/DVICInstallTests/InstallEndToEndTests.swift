import Crypto
import DVICTesting
import Foundation
import Glibc
import Testing

/// Adding machines for real: a `dvic-server` process, a `dvic-agent` process as the source node,
/// the `dvic` CLI, and the throwaway OpenSSH server of tools/sshd as the target (127.0.0.1).
@Suite(.serialized) struct InstallEndToEndTests {
    struct Fleet {
        let directory: String
        let base: String
        let server: BuiltProgram
        let admin: APIClient

        /// - Parameter releaseKey: the release public key (base64) for `--release-key`.
        static func start(releaseKey: String? = nil) async throws -> Fleet {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-install-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let port = FreePort.loopback()
            let base = "http://127.0.0.1:\(port)"
            var arguments = ["--host", "127.0.0.1", "--port", "\(port)", "--data", directory + "/data", "--no-local-agent"]
            if let releaseKey {
                try (releaseKey + "\n").write(toFile: directory + "/release.pub", atomically: true, encoding: .utf8)
                arguments += ["--release-key", directory + "/release.pub"]
            }
            let server = try BuiltProgram(
                "dvic-server", arguments,
                output: directory + "/server.log", environment: ["DVIC_ADMIN_PASSWORD": "install-admin-password"])
            guard await eventually(timeout: .seconds(30), { (try? await APIClient(baseURL: base).get("/healthz").status) == 200 }) else {
                await server.stop()
                throw HarnessError("dvic-server did not start: \(server.text.suffix(2000))")
            }
            let admin = try await APIClient.login(baseURL: base, username: "admin", password: "install-admin-password")
            return Fleet(directory: directory, base: base, server: server, admin: admin)
        }

        func node(named name: String) async throws -> [String: Any]? {
            try await admin.get("/v1/nodes").array.first { $0["name"] as? String == name }
        }

        func online(_ name: String, timeout: Duration = .seconds(60)) async -> Bool {
            await eventually(timeout: timeout) { (try? await node(named: name))?["status"] as? String == "online" }
        }

        func stop() async {
            await server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// The whole path of the issue: `dvic node add --via SOURCE`, the source agent's SSH session
    /// with sudo -S, the install script into a prefix, the new agent enrolling and coming online;
    /// then the password is nowhere on disk, in a log or in the audit log.
    @Test func nodeAddThroughASourceAgentBringsTheNodeOnline() async throws {
        guard let target = SSHTarget.require() else { return }
        let fleet = try await Fleet.start()
        let prefix = fleet.directory + "/target-root"
        var source: BuiltProgram?
        do {
            let token = try #require(try await fleet.admin.post("/v1/enrollments", ["name": "source-node"]).object["token"] as? String)
            source = try BuiltProgram("dvic-agent", [
                "--server", fleet.base, "--enroll-token", token, "--state", fleet.directory + "/source-state",
                "--log-dir", fleet.directory + "/source-logs", "--name", "source-node",
            ], output: fleet.directory + "/source.log", environment: ["DVIC_NO_TRIM": "1"])
            #expect(await fleet.online("source-node"), "the source agent did not come online: \(source?.text.suffix(1500) ?? "")")

            // The password goes in on stdin, from a file outside every directory searched below.
            let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-secret-\(UUID().uuidString)").path
            try (target.password + "\n").write(toFile: secrets, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: secrets) }
            let cli = try BuiltProgram("dvic", [
                "node", "add", "--ip", "127.0.0.1", "--port", "\(target.port)", "--user", target.user, "--password-stdin",
                "--via", "source-node", "--name", "added-node", "--tag", "lab-e2e", "--prefix", prefix, "--timeout", "120",
                "--server", fleet.base, "--token", fleet.admin.token ?? "",
            ], output: fleet.directory + "/cli.log", stdinFile: secrets)
            let status = await cli.wait(timeout: .seconds(180))
            let output = cli.text
            #expect(status == 0, "dvic node add: \(output)")
            for step in ["connecting", "authenticated", "downloading", "installed", "started", "online"] {
                #expect(output.contains("] \(step)"), "no \(step) step in: \(output)")
            }
            #expect(output.contains("Installed: added-node is node"))

            let node = try #require(try await fleet.node(named: "added-node"))
            #expect(node["status"] as? String == "online")
            #expect((node["tags"] as? [String])?.contains("lab-e2e") == true)
            // Installed where asked, with the config root-only.
            #expect(FileManager.default.isExecutableFile(atPath: prefix + "/bin/dvic-agent"))
            let mode = try FileManager.default.attributesOfItem(atPath: prefix + "/etc/dvic/agent.conf")[.posixPermissions] as? Int
            #expect(mode == 0o600)

            // The job answers with every step, the recorded host key and the node.
            let jobs = try await fleet.admin.get("/v1/installs").object["jobs"] as? [[String: Any]] ?? []
            let job = try #require(jobs.first)
            #expect(job["state"] as? String == "succeeded")
            #expect(job["hostKey"] as? String == target.hostKey)
            #expect(job["nodeID"] as? String == node["id"] as? String)

            // The password: in no file of the server, the agents or the install, in no log, and
            // in no audit record.
            await source?.stop()
            source = nil
            await InstallProcess.stopInstalledAgent(prefix: prefix)
            #expect(InstallProcess.files(under: fleet.directory, containing: target.password) == [])
            let audit = try await fleet.admin.get("/v1/audit?limit=200")
            #expect(!audit.text.contains(target.password))
            #expect(audit.text.contains("install.start") && audit.text.contains("install.finish"))
        } catch {
            Issue.record("\(error)")
        }
        if let source { await source.stop() }
        await InstallProcess.stopInstalledAgent(prefix: prefix)
        await fleet.stop()
    }

    /// Through the API with `via: server`: a wrong password fails the job as auth_failed, bad
    /// requests are refused up front, and the right password installs and records the host key.
    @Test func viaServerFailuresHaveTheirNames() async throws {
        guard let target = SSHTarget.require() else { return }
        let fleet = try await Fleet.start()
        let prefix = fleet.directory + "/target-root"
        func install(_ body: [String: Any]) async throws -> [String: Any] {
            let started = try await fleet.admin.post("/v1/installs", body)
            #expect(started.status == 202, "\(started.text)")
            let id = try #require(started.object["id"] as? String)
            var job: [String: Any] = [:]
            _ = await eventually(timeout: .seconds(150)) {
                job = (try? await fleet.admin.get("/v1/installs/\(id)").object) ?? [:]
                return job["state"] as? String != "running"
            }
            return job
        }
        do {
            var request: [String: Any] = [
                "ip": "127.0.0.1", "port": target.port, "user": target.user, "password": "wrong-password", "via": "server",
                "name": "via-server", "prefix": prefix, "timeoutSeconds": 120,
            ]
            let refused = try await install(request)
            #expect(refused["state"] as? String == "failed")
            #expect(refused["failure"] as? String == "auth_failed")

            // A bad request is refused before anything runs.
            let bad = try await fleet.admin.post("/v1/installs", ["ip": "127.0.0.1", "user": "x y", "password": "p"])
            #expect(bad.status == 400)
            let noNode = try await fleet.admin.post("/v1/installs", ["ip": "127.0.0.1", "user": "x", "password": "p", "via": "no-such-node"])
            #expect(noNode.status == 400)

            request["password"] = target.password
            let installed = try await install(request)
            #expect(installed["state"] as? String == "succeeded", "\(installed)")
            #expect(await fleet.online("via-server"))
            await InstallProcess.stopInstalledAgent(prefix: prefix)

            // The job shows the key it recorded; without a token nobody may start an install.
            #expect((installed["hostKeyFingerprint"] as? String)?.hasPrefix("SHA256:") == true)
            let anonymous = try await APIClient(baseURL: fleet.base).post("/v1/installs", request)
            #expect(anonymous.status == 401)
        } catch {
            Issue.record("\(error)")
        }
        await InstallProcess.stopInstalledAgent(prefix: prefix)
        await fleet.stop()
    }

    /// The one-liner of `POST /v1/enrollments`, run twice on "the machine" (this one, as root):
    /// it installs the newest signed build the server holds (a real agent restamped 9.9.9),
    /// writes the release key into the config, and the second run reinstalls the same node.
    @Test func oneLinerInstallsAndIsSafeToRunTwice() async throws {
        guard SSHTarget.require() != nil, getuid() == 0 else { return }
        let release = Curve25519.Signing.PrivateKey()
        let releaseText = release.publicKey.rawRepresentation.base64EncodedString()
        let fleet = try await Fleet.start(releaseKey: releaseText)
        let prefix = fleet.directory + "/one-liner"
        do {
            // A signed build of version 9.9.9: the real dvic-agent with its version stamp rewritten.
            var build = try Data(contentsOf: BuiltProgram.binaries.appendingPathComponent("dvic-agent"))
            let marker = Data("DVIC-AGENT-VERSION:".utf8)
            let range = try #require(build.range(of: marker))
            var stamp = marker + Data("9.9.9".utf8)
            stamp += Data(count: 64 - stamp.count)
            build.replaceSubrange(range.lowerBound..<(range.lowerBound + 64), with: stamp)
            let signature = try release.signature(for: Data(SHA256.hash(data: build))).map { String(format: "%02x", $0) }.joined()
            let uploaded = try await fleet.admin.send("POST", "/v1/agent/builds?signature=\(signature)", body: build, headers: ["Content-Type": "application/octet-stream"])
            #expect(uploaded.status == 201, "\(uploaded.text)")

            let enrollment = try await fleet.admin.post("/v1/enrollments", ["name": "one-liner", "tags": ["lab-x"]]).object
            let command = try #require(enrollment["installCommand"] as? String)
            #expect(command.hasPrefix("curl -fsSL \"\(fleet.base)/install.sh?token=dve_"))
            #expect(command.hasSuffix("| sudo sh"))
            // As root, without sudo, into a prefix: what `| sudo sh -s -- --prefix P` does.
            let line = command.replacingOccurrences(of: "| sudo sh", with: "| sh -s -- --prefix '\(prefix)'")
            let first = try BuiltProgram("/bin/sh", ["-c", line], output: fleet.directory + "/first.log")
            #expect(await first.wait(timeout: .seconds(120)) == 0, "first run: \(first.text)")
            #expect(first.text.contains("DVIC-STEP started"))
            #expect(first.text.contains("@reboot"), "no note on making it permanent: \(first.text)")
            #expect(await fleet.online("one-liner"))
            let id = try await fleet.node(named: "one-liner")?["id"] as? String
            #expect(try await fleet.node(named: "one-liner")?["agentVersion"] as? String == "9.9.9")
            let config = try String(contentsOfFile: prefix + "/etc/dvic/agent.conf", encoding: .utf8)
            #expect(config.contains("release-key = \(releaseText)"), "\(config)")
            let firstPID = try String(contentsOfFile: prefix + "/var/lib/dvic/agent.pid", encoding: .utf8)

            let second = try BuiltProgram("/bin/sh", ["-c", line], output: fleet.directory + "/second.log")
            #expect(await second.wait(timeout: .seconds(120)) == 0, "second run: \(second.text)")
            let secondPID = try String(contentsOfFile: prefix + "/var/lib/dvic/agent.pid", encoding: .utf8)
            #expect(firstPID != secondPID)
            #expect(kill(pid_t(firstPID.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 0) != 0, "the first agent still runs")
            // The same node (its key and id were kept), online again, and only one of it.
            #expect(await eventually(timeout: .seconds(60)) {
                let nodes = (try? await fleet.admin.get("/v1/nodes").array) ?? []
                let named = nodes.filter { $0["name"] as? String == "one-liner" }
                return named.count == 1 && named[0]["id"] as? String == id && named[0]["status"] as? String == "online"
            })

            // Unknown and missing tokens get a script that says why, with an error status.
            let unknown = try await APIClient(baseURL: fleet.base).get("/install.sh?token=dve_nonsense")
            #expect(unknown.status == 401)
            #expect(unknown.text.contains("unknown enrollment token"))
            #expect(try await APIClient(baseURL: fleet.base).get("/install.sh").status == 400)
        } catch {
            Issue.record("\(error)")
        }
        await InstallProcess.stopInstalledAgent(prefix: prefix)
        await fleet.stop()
    }
}
