import Crypto
import DVICProtocol
import DVICServer
import DVICTesting
import Foundation
import Logging
import NIOCore
import Testing
import WSClient
import NIOWebSocket

/// One misbehaving client is disconnected, and nobody else notices.
@Suite(.serialized) struct LimitTests {
    @Test func floodingAgentIsCutOffOthersCarryOn() async throws {
        let fleet = try await Fleet.start { $0.limits.framesPerSecond = 50 }
        let agents = try await fleet.agents(2)
        let (flooder, calm) = (agents[0], agents[1])
        for _ in 0..<300 { flooder.send([.ping(Ping(nonce: 1))]) }
        #expect(await flooder.waitUntilClosed())
        #expect(await flooder.waitForMessage { if case .error(let e) = $0 { e.code == "rate_limited" } else { false } })
        calm.openStream(1, key: "demo:calmcalm0001")
        calm.sendLogs(1, firstSeq: 1, texts: ["still fine"], timestamp: now)
        #expect(await calm.waitForAck(1, seq: 1))
        #expect(calm.isConnected)
        await fleet.stop(agents)
    }

    @Test func garbageFrameClosesOnlyThatConnection() async throws {
        let fleet = try await Fleet.start()
        let agents = try await fleet.agents(2)
        // A frame whose length field claims 4 GiB.
        let outcome = try await rawSession(fleet, agent: agents[0]) { writer in
            try await writer.write(.binary(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0x38])))
        }
        #expect(outcome.errors.contains("frame_too_large"))
        #expect(outcome.closedBecause?.hasPrefix("frame_too_large") == true)
        await expectStillServed(agents[1], key: "demo:other000001")
        await fleet.stop(agents)
    }

    @Test func unknownMessageTypeIsReportedAndSkipped() async throws {
        let fleet = try await Fleet.start()
        let agent = try await fleet.agents(1).first!
        let outcome = try await rawSession(fleet, agent: agent) { writer in
            var frames = ByteBuffer(bytes: [0, 0, 0, 3, 0x10, 0x7F, 0x00])
            var encoder = try FrameEncoder(compression: nil)
            try encoder.encode(.ping(Ping(nonce: 77)), into: &frames)
            try await writer.write(.binary(frames))
        }
        #expect(outcome.errors.contains("unknown_message_type"))
        #expect(outcome.received.contains(.pong(Pong(nonce: 77))))
        await fleet.stop()
    }

    /// The session handler puts a message sent in several WebSocket frames back together,
    /// as the protocol allows, and routes it once.
    @Test func aMessageInFragmentsIsPutTogether() async throws {
        let fleet = try await Fleet.start()
        let agent = try await fleet.agents(1).first!
        let outcome = try await rawSession(fleet, agent: agent) { writer in
            var encoder = try FrameEncoder(compression: nil)
            var whole = try encoder.encode([.ping(Ping(nonce: 41)), .ping(Ping(nonce: 42))])
            let first = whole.readSlice(length: 3)!
            let second = whole.readSlice(length: 5)!
            try await writer.write(.custom(WebSocketFrame(fin: false, opcode: .binary, data: first)))
            try await writer.write(.custom(WebSocketFrame(fin: false, opcode: .continuation, data: second)))
            try await writer.write(.custom(WebSocketFrame(fin: true, opcode: .continuation, data: whole)))
            // An unfragmented one after it still routes.
            try await writer.write(.binary(try encoder.encode([.ping(Ping(nonce: 43))])))
        }
        #expect(outcome.errors.isEmpty)
        #expect(outcome.received.filter { if case .pong = $0 { true } else { false } } == [
            .pong(Pong(nonce: 41)), .pong(Pong(nonce: 42)), .pong(Pong(nonce: 43)),
        ])
        await fleet.stop()
    }

    /// Fragments that break the rules end only that session, with the reason.
    @Test func badFragmentsAndTextEndTheSession() async throws {
        let fleet = try await Fleet.start { $0.limits.maxMessageBytes = 4096 }
        let agents = try await fleet.agents(2)
        let stray = try await rawSession(fleet, agent: agents[0]) { writer in
            try await writer.write(.custom(WebSocketFrame(fin: true, opcode: .continuation, data: ByteBuffer(bytes: [1, 2, 3]))))
        }
        #expect(stray.errors == ["protocol_error"])
        #expect(stray.closedBecause?.hasPrefix("protocol_error") == true)
        let text = try await rawSession(fleet, agent: agents[0]) { writer in
            try await writer.write(.text("hello"))
        }
        #expect(text.errors == ["protocol_error"])
        #expect(text.closedBecause?.hasPrefix("protocol_error") == true)
        // Each frame is under the limit; the message they make is not.
        let oversized = try await rawSession(fleet, agent: agents[0]) { writer in
            let part = ByteBuffer(repeating: 7, count: 3000)
            try await writer.write(.custom(WebSocketFrame(fin: false, opcode: .binary, data: part)))
            try await writer.write(.custom(WebSocketFrame(fin: true, opcode: .continuation, data: part)))
        }
        #expect(oversized.errors == ["frame_too_large"])
        #expect(oversized.closedBecause?.hasPrefix("frame_too_large") == true)
        await expectStillServed(agents[1], key: "demo:bystander001")
        await fleet.stop(agents)
    }

    /// Before its welcome an agent may send only its hello (Spec/protocol.md 5.1). Sent in
    /// the hello's own WebSocket message, a ping is refused; sent right after it, the
    /// pings are either refused as a whole (they were read before the welcome went out,
    /// by whichever side of the session handler) or, if the server was quicker, all
    /// answered in order, never some of them. Nobody else notices either way.
    @Test func messagesSentBeforeTheWelcomeEndTheSession() async throws {
        let fleet = try await Fleet.start()
        let agents = try await fleet.agents(2)
        let withHello = try await rawSession(fleet, agent: agents[0], helloExtra: [.ping(Ping(nonce: 9))]) { _ in }
        #expect(withHello.errors == ["protocol_error"])
        #expect(!withHello.received.contains { if case .pong = $0 { true } else { false } })
        #expect(!withHello.received.contains { if case .welcome = $0 { true } else { false } })
        #expect(withHello.closedBecause?.hasPrefix("protocol_error") == true)

        for round in 0..<3 {
            let outcome = try await rawSession(fleet, agent: agents[0], waitForWelcome: false) { writer in
                var encoder = try FrameEncoder(compression: nil)
                for nonce in 1...20 { try await writer.write(.binary(try encoder.encode([.ping(Ping(nonce: UInt64(nonce)))]))) }
            }
            let pongs = outcome.received.filter { if case .pong = $0 { true } else { false } }
            if outcome.errors.isEmpty {
                #expect(pongs == (1...20).map { .pong(Pong(nonce: UInt64($0))) }, "round \(round)")
            } else {
                #expect(outcome.errors == ["protocol_error"], "round \(round)")
                #expect(pongs.isEmpty, "round \(round)")
                #expect(outcome.closedBecause?.hasPrefix("protocol_error") == true, "round \(round)")
            }
        }
        // A text message is never allowed, so right after the hello it ends the session
        // whichever side of the welcome it arrives.
        for round in 0..<3 {
            let text = try await rawSession(fleet, agent: agents[0], waitForWelcome: false) { writer in
                try await writer.write(.text("hello again"))
            }
            #expect(text.errors == ["protocol_error"], "round \(round)")
            #expect(text.closedBecause?.hasPrefix("protocol_error") == true, "round \(round)")
        }
        await expectStillServed(agents[1], key: "demo:bystander002")
        await fleet.stop(agents)
    }

    @Test func oversizedRequestBodyIs413() async throws {
        let fleet = try await Fleet.start()
        let big = Data(repeating: 0x61, count: 300 * 1024)
        let reply = try await fleet.admin.send("POST", "/v1/enrollments", body: big)
        #expect(reply.status == 413)
        #expect(try await fleet.admin.get("/healthz").status == 200)
        await fleet.stop()
    }

    /// A bystander's logs are still taken and acknowledged.
    func expectStillServed(_ agent: SimulatedAgent, key: String) async {
        agent.openStream(1, key: key)
        agent.sendLogs(1, firstSeq: 1, texts: ["unaffected"], timestamp: now)
        #expect(await agent.waitForAck(1, seq: 1))
    }

    struct Outcome {
        var errors: [String] = []
        var received: [Message] = []
        /// The reason in the server's close frame when the server ended the session; nil
        /// when the client hung up after its second.
        var closedBecause: String?
    }

    /// Handshakes as `agent` by hand, runs `act`, and collects what comes back for a second.
    /// With `waitForWelcome` false, `act` runs right after the hello.
    func rawSession(
        _ fleet: Fleet, agent: SimulatedAgent, waitForWelcome: Bool = true, helloExtra: [Message] = [],
        act: @escaping @Sendable (WebSocketOutboundWriter) async throws -> Void
    ) async throws -> Outcome {
        agent.disconnect()
        let collected = Collected()
        let close = try await WebSocketClient.connect(url: fleet.harness.agentURL, logger: Logger(label: "raw")) { inbound, writer, _ in
            var decoder = FrameDecoder()
            var encoder = try FrameEncoder(compression: nil)
            var iterator = inbound.messages(maxSize: 1 << 22).makeAsyncIterator()
            guard case .binary(let first)? = try await iterator.next(), case .challenge(let challenge)? = try decoder.decode(message: first).first else { return }
            let signature = try agent.privateKey.signature(for: HelloSignature.signedBytes(nonce: challenge.nonce, nodeID: agent.nodeID))
            let hello = Message.hello(Hello(version: 1, nodeID: agent.nodeID, agentVersion: "raw", capabilities: [], signature: Array(signature)))
            try await writer.write(.binary(try encoder.encode([hello] + helloExtra)))
            if waitForWelcome && helloExtra.isEmpty {
                guard case .binary(let welcome)? = try await iterator.next(), case .welcome? = try decoder.decode(message: welcome).first else {
                    throw HarnessError("no welcome")
                }
            }
            try await act(writer)
            // Listen for a second, then hang up (if the server has not already).
            let closer = Task {
                try? await Task.sleep(for: .seconds(1))
                try? await writer.close(.normalClosure, reason: "done")
            }
            defer { closer.cancel() }
            while let message = try? await iterator.next() {
                guard case .binary(let buffer) = message else { continue }
                for decoded in (try? decoder.decode(message: buffer)) ?? [] {
                    await collected.add(decoded)
                }
            }
        }
        var outcome = await collected.outcome
        outcome.closedBecause = close?.reason
        return outcome
    }

    actor Collected {
        var outcome = Outcome()
        func add(_ message: Message) {
            outcome.received.append(message)
            if case .error(let error) = message { outcome.errors.append(error.code) }
        }
    }
}
