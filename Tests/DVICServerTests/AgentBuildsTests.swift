import DVICProtocol
import DVICServer
import DVICTesting
import Foundation
import Testing

/// The build store over HTTP: signed uploads only, one-time downloads, who may do what.
@Suite(.serialized) struct AgentBuildsTests {
    @Test func uploadsMustBeSignedByTheReleaseKey() async throws {
        let signer = ReleaseSigner()
        let fleet = try await Fleet.start { $0.releaseKeyText = signer.publicKeyText }
        let build = ReleaseSigner.script(version: "0.2.0", status: 0)

        let unsigned = try await signer.upload(build, client: fleet.admin, signature: .some(nil))
        #expect(unsigned.status == 400)
        #expect(unsigned.errorCode == "unsigned_build")
        let foreign = try await ReleaseSigner().upload(build, client: fleet.admin)
        #expect(foreign.status == 400)
        #expect(foreign.errorCode == "bad_signature")
        // Signed, then changed: the signature no longer covers the bytes.
        var tampered = build
        tampered[3] ^= 1
        let tamperedReply = try await signer.upload(tampered, client: fleet.admin, signature: .some(try signer.signatureHex(build)))
        #expect(tamperedReply.status == 400)
        #expect(tamperedReply.errorCode == "bad_signature")
        let noStamp = try await signer.upload(Data("#!/bin/sh\n".utf8), client: fleet.admin)
        #expect(noStamp.errorCode == "invalid_build")
        // Nothing refused was kept.
        #expect((try await fleet.admin.get("/v1/agent/builds").object["builds"] as? [Any])?.isEmpty == true)

        let stored = try await signer.upload(build, client: fleet.admin)
        #expect(stored.status == 201)
        #expect(stored.object["version"] as? String == "0.2.0")
        #expect(stored.object["signed"] as? Bool == true)
        #expect(stored.object["size"] as? Int == build.count)
        // The same bytes again are the same build; other bytes under the same version are not.
        #expect(try await signer.upload(build, client: fleet.admin).status == 201)
        #expect(try await signer.upload(build + Data([0]), client: fleet.admin).status == 409)
        let list = try await fleet.admin.get("/v1/agent/builds").object
        #expect((list["builds"] as? [[String: Any]])?.map { $0["version"] as? String } == ["0.2.0"])
        #expect(list["releaseKey"] as? String == signer.publicKeyText)
        #expect(fleet.harness.server.agentBuilds.releasePublicKeyText == signer.publicKeyText)
        await fleet.stop()
    }

    @Test func withoutAReleaseKeyNoBuildIsAccepted() async throws {
        let fleet = try await Fleet.start()
        let reply = try await ReleaseSigner().upload(ReleaseSigner.script(version: "0.2.0", status: 0), client: fleet.admin)
        #expect(reply.status == 409)
        #expect(reply.errorCode == "no_release_key")
        #expect(fleet.harness.server.agentBuilds.releasePublicKeyText == nil)
        await fleet.stop()
    }

    @Test func installsGetTheNewestSignedBuildElseTheFallbackAndTokensAreOneTime() async throws {
        let signer = ReleaseSigner()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-builds-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fallbackBytes = ReleaseSigner.script(version: "0.1.9", status: 0)
        try fallbackBytes.write(to: URL(fileURLWithPath: directory + "/dvic-agent"))
        let fleet = try await Fleet.start {
            $0.releaseKeyText = signer.publicKeyText
            $0.agentBinaryPath = directory + "/dvic-agent"
        }
        let builds = fleet.harness.server.agentBuilds

        let fallback = try #require(await builds.installBuild())
        #expect(fallback.version == "0.1.9")
        #expect(fallback.signatureHex == nil)
        #expect(fallback.size == fallbackBytes.count)

        let build = ReleaseSigner.script(version: "0.2.0", status: 0)
        #expect(try await signer.upload(build, client: fleet.admin).status == 201)
        let signed = try #require(await builds.installBuild())
        #expect(signed.version == "0.2.0")
        #expect(signed.signatureHex == (try signer.signatureHex(build)))

        let anonymous = APIClient(baseURL: fleet.harness.baseURL)
        let token = await builds.issueDownloadToken(version: signed.version, ttl: .seconds(60))
        let first = try await anonymous.get("/v1/agent/download?token=\(token)")
        #expect(first.status == 200)
        #expect(first.contentType == "application/octet-stream")
        #expect(first.body == build)
        let second = try await anonymous.get("/v1/agent/download?token=\(token)")
        #expect(second.status == 401)
        #expect(second.errorCode == "download_token_unknown")
        #expect(try await anonymous.get("/v1/agent/download?token=made-up").status == 401)
        #expect(try await anonymous.get("/v1/agent/download").status == 401)
        let short = await builds.issueDownloadToken(version: signed.version, ttl: .milliseconds(1))
        try await Task.sleep(for: .milliseconds(20))
        let expired = try await anonymous.get("/v1/agent/download?token=\(short)")
        #expect(expired.errorCode == "download_token_expired")
        // The fallback is downloadable by its version too (unsigned installs).
        let fallbackToken = await builds.issueDownloadToken(version: "0.1.9", ttl: .seconds(60))
        #expect(try await anonymous.get("/v1/agent/download?token=\(fallbackToken)").body == fallbackBytes)
        await fleet.stop()
    }

    @Test func rolesForBuildsAndUpdates() async throws {
        let signer = ReleaseSigner()
        let fleet = try await Fleet.start { $0.releaseKeyText = signer.publicKeyText }
        let agents = try await fleet.agents(1)
        let viewer = try await fleet.user("vic", role: "viewer")
        let ops = try await fleet.user("ora", role: "operator")
        let build = ReleaseSigner.script(version: "0.2.0", status: 0)
        let anonymous = APIClient(baseURL: fleet.harness.baseURL)

        #expect(try await signer.upload(build, client: anonymous).status == 401)
        #expect(try await signer.upload(build, client: viewer).status == 403)
        #expect(try await signer.upload(build, client: ops).status == 403)
        #expect(try await anonymous.get("/v1/agent/builds").status == 401)
        #expect(try await viewer.get("/v1/agent/builds").status == 200)

        let update: [String: Any] = ["targets": ["all": true], "batchSize": 1, "timeoutSeconds": 1]
        #expect(try await anonymous.post("/v1/updates", update).status == 401)
        #expect(try await viewer.post("/v1/updates", update).status == 403)
        // No signed build yet.
        #expect(try await ops.post("/v1/updates", update).errorCode == "no_build")
        #expect(try await signer.upload(build, client: fleet.admin).status == 201)
        #expect(try await ops.post("/v1/updates", ["targets": ["tags": ["nope"]]]).errorCode == "no_targets")
        let watcher = StreamClient()
        _ = try await watcher.connect(url: fleet.harness.streamURL, token: viewer.token!)
        watcher.send([.subscribe(Subscribe(subscriptionID: 1, kinds: 32, nodes: [], tags: [], metrics: [], minSeverity: .trace, text: ""))])
        // The subscription is in place once an unrelated request has gone round (no sleep).
        _ = try await viewer.get("/v1/me")
        let started = try await ops.post("/v1/updates", update)
        #expect(started.status == 202)
        let id = try #require(started.object["id"] as? String)
        // Progress on the live stream: the batch starts, then the rollout ends failed.
        #expect(await watcher.waitFor(timeout: .seconds(20)) { message in
            guard case .jobProgress(let progress) = message else { return false }
            return progress.jobID == id && progress.kind == "update" && progress.state == .failed && progress.done == 1 && progress.total == 1
        })
        await watcher.close()
        // The simulated agent never answers the offer: the node times out and the rollout fails.
        var state: [String: Any] = [:]
        _ = await eventually(timeout: .seconds(20)) {
            state = (try? await viewer.get("/v1/updates/\(id)").object) ?? [:]
            return state["state"] as? String != "running"
        }
        #expect(state["state"] as? String == "failed")
        #expect(state["version"] as? String == "0.2.0")
        let node = try #require((state["nodes"] as? [[String: Any]])?.first)
        #expect(node["state"] as? String == "failed")
        #expect((node["message"] as? String)?.contains("within 1 s") == true)
        #expect(try await viewer.get("/v1/updates").array.first?["id"] as? String == id)
        #expect(try await viewer.get("/v1/updates/nope").status == 404)
        // update.finish is written as the rollout ends, possibly just after its state shows.
        var audit: [[String: Any]] = []
        _ = await eventually(timeout: .seconds(10)) {
            audit = (try? await fleet.admin.get("/v1/audit?limit=50").object["entries"] as? [[String: Any]]) ?? []
            return audit.contains { $0["action"] as? String == "update.finish" }
        }
        #expect(audit.contains { $0["action"] as? String == "update.start" && $0["actor"] as? String == "ora" })
        #expect(audit.contains { $0["action"] as? String == "update.finish" && $0["target"] as? String == id })
        #expect(audit.contains { $0["action"] as? String == "agent.build.upload" })
        await fleet.stop(agents)
    }
}

/// The server's own agent is the server: `--all` and `--tag` rollouts leave it out.
@Suite(.serialized) struct LocalAgentUpdateTests {
    @Test func rolloutsToAllLeaveTheLocalAgentOut() async throws {
        let signer = ReleaseSigner()
        let fleet = try await Fleet.start {
            $0.releaseKeyText = signer.publicKeyText
            $0.localAgent = true
        }
        let agents = try await fleet.agents(2)
        // The harness runs no in-process agent: let the first simulated one play it, as the
        // server knows its local agent, by the node id in its state directory.
        let localState = fleet.harness.dataDirectory + "/local-agent"
        try FileManager.default.createDirectory(atPath: localState, withIntermediateDirectories: true)
        try (agents[0].nodeID + "\n").write(toFile: localState + "/node-id", atomically: true, encoding: .utf8)
        #expect(try await signer.upload(ReleaseSigner.script(version: "0.2.0", status: 0), client: fleet.admin).status == 201)
        let everyone = try await fleet.admin.post("/v1/updates", ["targets": ["all": true], "timeoutSeconds": 1])
        let id = try #require(everyone.object["id"] as? String, "\(everyone.text)")
        let state = try await fleet.admin.get("/v1/updates/\(id)").object
        #expect((state["nodes"] as? [[String: Any]])?.compactMap { $0["node"] as? String } == [agents[1].nodeID])
        await fleet.stop(agents)
    }
}
