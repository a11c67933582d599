internal import Crypto
public import DVICProtocol
public import DVICServerCore
internal import DVICStore
public import HummingbirdWebSocket
public import Logging
internal import ServiceLifecycle
public import NIOCore
internal import NIOWebSocket
internal import Prometheus
import Synchronization

/// The server's side of `/v1/agent` (Spec/protocol.md, sections 5–7): the challenge,
/// the signed hello, the welcome with resume points, then every message routed to
/// the actor that owns it.
///
/// Protocol code only: what each message means lives in the actors.
public struct AgentConnection: Sendable {
    let server: FleetServer

    public init(server: FleetServer) {
        self.server = server
    }

    /// Ends when the peer goes, or when the server shuts down gracefully: a silent
    /// peer must not hold the server's exit.
    public func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, logger: Logger) async throws {
        try await WebSocketSession.untilShutdown(outbound) {
            try await serve(inbound: inbound, outbound: outbound, channel: channel, logger: logger)
        }
    }

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, logger: Logger) async throws {
        let configuration = server.configuration
        let metrics = server.serverMetrics
        metrics.agentConnections.increment()
        defer { metrics.agentConnections.decrement() }

        var encoder = try FrameEncoder(compression: .init(threshold: 256))
        var decoder = FrameDecoder(limits: ProtocolLimits(maxMessageLength: configuration.limits.maxMessageBytes))
        var nonce = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = UInt8.random(in: 0...255, using: &generator) }
        let challengedAt = server.clock.now()
        let challenge = Challenge(
            versions: [UInt64(FrameFlags.currentVersion)], nonce: nonce, serverTime: challengedAt,
            capabilities: ["deflate", PresetDictionary.capability(id: 1)])
        try await write([.challenge(challenge)], encoder: &encoder, outbound: outbound)

        var messages = inbound.messages(maxSize: configuration.limits.maxMessageBytes).makeAsyncIterator()
        // The handshake must finish in time; a watchdog closes a silent connection.
        let handshakeDone = Atomic<Bool>(false)
        let watchdog = Task {
            try? await Task.sleep(for: .seconds(configuration.limits.handshakeTimeoutSeconds))
            if !handshakeDone.load(ordering: .acquiring) {
                try? await outbound.close(.policyViolation, reason: "stale_challenge: no hello in time")
            }
        }
        defer { watchdog.cancel() }

        guard let opening = try await messages.next(), case .binary(let buffer) = opening else {
            try await refuse(outbound, encoder: &encoder, code: "protocol_error", reason: "expected a binary hello")
            return
        }
        let opened: [Message]
        do throws(ProtocolError) {
            opened = try decoder.decode(message: buffer)
        } catch {
            try await refuse(outbound, encoder: &encoder, code: error.name, reason: error.message)
            return
        }
        // The hello alone: anything sent with it would come before the welcome.
        guard opened.count == 1, case .hello(let hello) = opened[0] else {
            try await refuse(outbound, encoder: &encoder, code: "protocol_error", reason: "expected a hello and nothing else before the welcome")
            return
        }
        guard server.clock.now() - challengedAt <= Int64(configuration.limits.handshakeTimeoutSeconds) * 1000 else {
            try await refuse(outbound, encoder: &encoder, code: "stale_challenge", reason: "the challenge expired")
            return
        }
        guard hello.version == UInt64(FrameFlags.currentVersion) else {
            try await refuse(outbound, encoder: &encoder, code: "unsupported_version", reason: "version \(hello.version) is not spoken here")
            return
        }
        guard let record = try? await server.store.node(id: hello.nodeID), record.kind == "agent", record.publicKey.count == 32 else {
            try await refuse(outbound, encoder: &encoder, code: "unknown_node", reason: "node \(hello.nodeID.prefix(64)) is not enrolled")
            return
        }
        let signed = HelloSignature.signedBytes(nonce: nonce, nodeID: hello.nodeID)
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: record.publicKey),
            key.isValidSignature(hello.signature, for: signed)
        else {
            try await refuse(outbound, encoder: &encoder, code: "bad_signature", reason: "the hello signature does not verify")
            return
        }
        handshakeDone.store(true, ordering: .releasing)

        let nodeID = hello.nodeID
        let sessionID = AuthService.newToken(prefix: "s-").prefix(24).description
        let resume = (try? await server.logs.resumePoints(nodeID: nodeID)) ?? []
        let welcome = Welcome(
            sessionID: sessionID, heartbeatSeconds: 15,
            config: [KeyValue("interval_ms", "1000")], resume: resume)
        // Agents that speak dictionary 1 get it back for what the server sends.
        let writerCompression = FrameEncoder.Compression(
            threshold: 256, dictionaryID: hello.capabilities.contains(PresetDictionary.capability(id: 1)) ? 1 : 0)
        var connectionLogger = logger
        connectionLogger[metadataKey: "node"] = "\(nodeID)"
        connectionLogger[metadataKey: "session"] = "\(sessionID)"

        // From here the session runs on the event loop (`AgentSessionHandler`). It goes
        // into the pipeline before the welcome is written: an agent sends nothing before
        // its welcome, so every session message reaches the handler.
        let handler = try await installSessionHandler(
            channel: channel, nodeID: nodeID, sessionID: sessionID,
            encoder: try FrameEncoder(compression: writerCompression), logger: connectionLogger)
        let mailbox = server.agentMailboxes.mailbox(for: handler.eventLoop)
        let link = AgentLink(nodeID: nodeID, sessionID: sessionID, maxPendingBytes: configuration.limits.maxPendingOutboundBytes) { messages in
            mailbox.post(handler, messages)
        }
        // Online before the welcome goes out, so that an agent holding its welcome is a
        // node commands reach (a command sent just after an agent's welcome found the node
        // still offline). What is sent to the link meanwhile is held by the handler until
        // `start` has written the welcome.
        await server.registry.connected(link, agentVersion: hello.agentVersion)
        var welcomeFrame = ByteBuffer()
        try encoder.encode(.welcome(welcome), into: &welcomeFrame)
        handler.eventLoop.execute { handler.value.start(link: link, welcome: welcomeFrame) }
        connectionLogger.info("agent connected", metadata: ["version": "\(hello.agentVersion)"])
        await server.installs.online(nodeID: nodeID, name: record.name)

        // This task now only keeps the WebSocket: Hummingbird answers pings and the close
        // handshake while it reads, and the link's end closes the connection.
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in link.ended {}
                try? await outbound.close(.normalClosure, reason: link.closeReason)
            }
            do {
                while try await messages.next() != nil {
                    // Only a message read before the handler was in the pipeline, so
                    // before the welcome, arrives here (the handler takes the rest);
                    // text or binary, it is refused.
                    handler.eventLoop.execute { handler.value.refuseEarly() }
                }
            } catch {
                connectionLogger.info("agent connection ended", metadata: ["error": "\(error)"])
            }
            link.close(reason: "connection ended")
        }
        await server.registry.disconnected(nodeID: nodeID, sessionID: sessionID)
        if await !server.registry.hasSession(nodeID) {
            await server.commands.nodeLost(nodeID)
            await server.installs.sourceLost(nodeID)
        }
        connectionLogger.info("agent disconnected")
    }

    /// Puts the session handler right after the WebSocket frame decoder, ahead of
    /// Hummingbird's handler, on the channel's event loop.
    private func installSessionHandler(
        channel: any Channel, nodeID: String, sessionID: String, encoder: sending FrameEncoder, logger: Logger
    ) async throws -> NIOLoopBound<AgentSessionHandler> {
        let server = self.server
        return try await channel.eventLoop.submit {
            let handler = AgentSessionHandler(server: server, nodeID: nodeID, sessionID: sessionID, encoder: encoder, logger: logger)
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
            try pipeline.addHandler(handler, position: .after(decoder))
            return NIOLoopBound(handler, eventLoop: channel.eventLoop)
        }.get()
    }

    private func write(_ messages: [Message], encoder: inout FrameEncoder, outbound: WebSocketOutboundWriter) async throws {
        let size = try await WebSocketSession.write(messages, encoder: &encoder, to: outbound)
        server.serverMetrics.framesOut.increment(by: Int64(messages.count))
        server.serverMetrics.bytesOut.increment(by: Int64(size))
    }

    private func refuse(_ outbound: WebSocketOutboundWriter, encoder: inout FrameEncoder, code: String, reason: String) async throws {
        server.serverMetrics.handshakesRefused.increment()
        try? await write([.error(ErrorMessage(code: code, fatal: true, message: reason))], encoder: &encoder, outbound: outbound)
        try await outbound.close(.policyViolation, reason: "\(code): \(reason)".prefix(120).description)
    }
}
