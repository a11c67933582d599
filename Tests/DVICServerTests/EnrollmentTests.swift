import Crypto
import DVICProtocol
import DVICServer
import DVICTesting
import Foundation
import Logging
import NIOCore
import Testing
import WSClient

@Suite(.serialized) struct EnrollmentTests {
    @Test func enrollConnectAndComeOnline() async throws {
        let fleet = try await Fleet.start()
        let agents = try await fleet.agents(1, tags: ["lab-a"])
        let nodes = try await fleet.admin.get("/v1/nodes")
        #expect(nodes.status == 200)
        #expect(nodes.array.count == 1)
        #expect(nodes.array.first?["status"] as? String == "online")
        #expect(nodes.array.first?["tags"] as? [String] == ["lab-a"])
        #expect(nodes.array.first?["kind"] as? String == "agent")
        // The answer carries the install one-liner.
        let enrollment = try await fleet.admin.post("/v1/enrollments", ["name": "x"])
        #expect((enrollment.object["installCommand"] as? String)?.contains("/install.sh?token=dve_") == true)
        await fleet.stop(agents)
    }

    @Test func aOneTimeTokenWorksOnce() async throws {
        let fleet = try await Fleet.start()
        let token = try await fleet.enrollmentToken()
        _ = try await SimulatedAgent.enroll(baseURL: fleet.harness.baseURL, token: token, name: "first")
        let key = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
        let second = try await APIClient(baseURL: fleet.harness.baseURL).post("/v1/enroll", ["token": token, "publicKey": key])
        #expect(second.status == 409)
        #expect(second.errorCode == "enrollment_used")
        let unknown = try await APIClient(baseURL: fleet.harness.baseURL).post("/v1/enroll", ["token": "dve_nope", "publicKey": key])
        #expect(unknown.status == 401)
        #expect(unknown.errorCode == "enrollment_unknown")
        let badKey = try await APIClient(baseURL: fleet.harness.baseURL).post("/v1/enroll", ["token": try await fleet.enrollmentToken(), "publicKey": "AAAA"])
        #expect(badKey.status == 400)
        await fleet.stop()
    }

    @Test func anExpiredTokenIsRefused() async throws {
        let fleet = try await Fleet.start()
        let token = try await fleet.enrollmentToken(ttl: 1)
        try await Task.sleep(for: .milliseconds(1200))
        let key = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
        let reply = try await APIClient(baseURL: fleet.harness.baseURL).post("/v1/enroll", ["token": token, "publicKey": key])
        #expect(reply.status == 401)
        #expect(reply.errorCode == "enrollment_expired")
        await fleet.stop()
    }

    @Test func unknownNodeAndBadSignatureAreRefused() async throws {
        let fleet = try await Fleet.start()
        let stranger = SimulatedAgent(nodeID: "n-unknown", privateKey: Curve25519.Signing.PrivateKey())
        await #expect(throws: (any Error).self) { try await stranger.connect(url: fleet.harness.agentURL, timeout: .seconds(5)) }
        #expect(stranger.closeReason?.contains("unknown_node") == true)

        // A real node id with a key that is not the enrolled one.
        let real = try await fleet.agents(1).first!
        real.disconnect()
        let impostor = SimulatedAgent(nodeID: real.nodeID, privateKey: Curve25519.Signing.PrivateKey())
        await #expect(throws: (any Error).self) { try await impostor.connect(url: fleet.harness.agentURL, timeout: .seconds(5)) }
        #expect(impostor.closeReason?.contains("bad_signature") == true)
        #expect(try await eventually { try await fleet.admin.get("/v1/nodes").array.first?["status"] as? String == "offline" })
        await fleet.stop()
    }

    /// A hello that comes after the challenge's lifetime is refused.
    @Test func aLateHelloIsRefused() async throws {
        let fleet = try await Fleet.start { $0.limits.handshakeTimeoutSeconds = 1 }
        let agent = try await fleet.agents(1).first!
        agent.disconnect()
        let outcome = try await WebSocketClient.connect(url: fleet.harness.agentURL, logger: Logger(label: "late")) { inbound, writer, _ in
            var decoder = FrameDecoder()
            var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            guard case .binary(let first)? = try await iterator.next(), case .challenge(let challenge)? = try decoder.decode(message: first).first else { return }
            try await Task.sleep(for: .milliseconds(1500))
            let signature = try agent.privateKey.signature(for: HelloSignature.signedBytes(nonce: challenge.nonce, nodeID: agent.nodeID))
            var encoder = try FrameEncoder(compression: nil)
            try? await writer.write(.binary(try encoder.encode([.hello(Hello(version: 1, nodeID: agent.nodeID, agentVersion: "x", capabilities: [], signature: Array(signature)))])))
            while try await iterator.next() != nil {}
        }
        #expect(outcome?.reason?.contains("stale_challenge") == true)
        await fleet.stop()
    }

    @Test func aNewConnectionReplacesTheOldOne() async throws {
        let fleet = try await Fleet.start()
        let agent = try await fleet.agents(1).first!
        let twin = SimulatedAgent(nodeID: agent.nodeID, privateKey: agent.privateKey)
        try await twin.connect(url: fleet.harness.agentURL)
        #expect(await agent.waitUntilClosed())
        #expect(twin.isConnected)
        let nodes = try await fleet.admin.get("/v1/nodes")
        #expect(nodes.array.first?["status"] as? String == "online")
        await fleet.stop([twin])
    }
}
