internal import Crypto
public import DVICProtocol
public import DVICServerCore
internal import DVICStore
public import HummingbirdWebSocket
public import Logging
internal import ServiceLifecycle
internal import NIOCore
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
    public func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        try await WebSocketSession.untilShutdown(outbound) {
            try await serve(inbound: inbound, outbound: outbound, logger: logger)
        }
    }

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
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
        let first: Message?
        do throws(ProtocolError) {
            first = try decoder.decode(message: buffer).first
        } catch {
            try await refuse(outbound, encoder: &encoder, code: error.name, reason: error.message)
            return
        }
        guard case .hello(let hello)? = first else {
            try await refuse(outbound, encoder: &encoder, code: "protocol_error", reason: "expected hello")
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

        // Online before the welcome goes out, so that an agent holding its welcome is a
        // node commands reach (a command sent just after an agent's welcome found the node
        // still offline). What is sent to the link meanwhile waits for its writer, which
        // starts after the welcome is written.
        let link = AgentLink(nodeID: nodeID, sessionID: sessionID, maxPendingBytes: configuration.limits.maxPendingOutboundBytes)
        await server.registry.connected(link, agentVersion: hello.agentVersion)
        do {
            try await write([.welcome(welcome)], encoder: &encoder, outbound: outbound)
        } catch {
            link.close(reason: "connection ended")
            await server.registry.disconnected(nodeID: nodeID, sessionID: sessionID)
            throw error
        }
        var connectionLogger = logger
        connectionLogger[metadataKey: "node"] = "\(nodeID)"
        connectionLogger[metadataKey: "session"] = "\(sessionID)"
        connectionLogger.info("agent connected", metadata: ["version": "\(hello.agentVersion)"])
        await server.installs.online(nodeID: nodeID, name: record.name)

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                var encoder = try FrameEncoder(compression: writerCompression)
                for await batch in link.outbound {
                    try await write(batch, encoder: &encoder, outbound: outbound)
                    link.written(batch)
                }
                // The link was closed (replaced, overloaded, or the reader ended).
                try? await outbound.close(.normalClosure, reason: link.closeReason)
            }
            var session = Session(nodeID: nodeID, sessionID: sessionID, link: link, rate: RateLimiter(
                rate: configuration.limits.framesPerSecond, burst: configuration.limits.framesPerSecond * 2, now: server.clock.now()))
            do {
                while let message = try await messages.next() {
                    guard case .binary(let buffer) = message else {
                        link.send([.error(ErrorMessage(code: "protocol_error", fatal: true, message: "text messages are not part of the protocol"))])
                        break
                    }
                    metrics.bytesIn.increment(by: Int64(buffer.readableBytes))
                    let decoded: [Message]
                    do throws(ProtocolError) {
                        decoded = try decoder.decode(message: buffer) { error in
                            link.send([.error(ErrorMessage(code: error.name, fatal: false, message: error.message))])
                        }
                    } catch {
                        connectionLogger.warning("closing on a protocol error", metadata: ["error": "\(error)"])
                        link.send([.error(ErrorMessage(code: error.name, fatal: true, message: error.message))])
                        break
                    }
                    metrics.framesIn.increment(by: Int64(decoded.count))
                    guard session.rate.take(Double(decoded.count), now: server.clock.now()) else {
                        connectionLogger.warning("closing: over the frame rate limit")
                        link.send([.error(ErrorMessage(code: "rate_limited", fatal: true, message: "over \(Int(configuration.limits.framesPerSecond)) frames per second"))])
                        break
                    }
                    // At most once a second per connection, not per message, and without a
                    // hop (`noteSeen`, `tagIndex`): lastSeen is shown to the second, a node
                    // goes offline only after agentTimeout, and an operator's tag change
                    // arrives within a second.
                    let now = server.clock.now()
                    if now - session.seenAt >= 1000 {
                        server.registry.noteSeen(nodeID)
                        session.tags = server.registry.tagIndex.tags(of: nodeID)
                        session.seenAt = now
                    }
                    for message in decoded {
                        await route(message, session: &session, logger: connectionLogger)
                    }
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

    /// What one connection remembers between messages.
    struct Session {
        let nodeID: String
        let sessionID: String
        let link: AgentLink
        var rate: RateLimiter
        var streams: [UInt32: String] = [:]
        var metricNames: [UInt32: String] = [:]
        /// The node's tags, refreshed with `seen` at most once a second.
        var tags: [String] = []
        /// When this connection last told the registry the node was seen (ms).
        var seenAt: Int64 = .min / 2
    }

    private func route(_ message: Message, session: inout Session, logger: Logger) async {
        let nodeID = session.nodeID
        switch message {
        case .metricDescriptors(let descriptors):
            for descriptor in descriptors.descriptors { session.metricNames[descriptor.id] = descriptor.name }
        case .metricSample(let sample):
            let values = sample.values.map { (name: session.metricNames[$0.id] ?? "metric.\($0.id)", value: $0.value) }
            server.metrics.submit(nodeID: nodeID, nodeTags: session.tags, timestamp: sample.timestamp, values: values)
        case .inventory(let inventory):
            await server.registry.setInventory(nodeID, inventory.attributes)
        case .logStreamOpen(let open):
            session.streams[open.streamID] = open.key
            await server.logs.openStream(nodeID: nodeID, open)
        case .logBatch(let batch):
            guard let key = session.streams[batch.streamID] else {
                session.link.send([.error(ErrorMessage(code: "invalid_value", fatal: false, message: "log stream \(batch.streamID) was not opened"))])
                return
            }
            server.logs.submit(nodeID: nodeID, nodeTags: session.tags, sessionID: session.sessionID, streamID: batch.streamID, streamKey: key, batch: batch)
        case .logGap(let gap):
            logger.warning("agent dropped log records", metadata: ["stream": "\(session.streams[gap.streamID] ?? "?")", "count": "\(gap.count)"])
            server.serverMetrics.logGapRecords.increment(by: Int64(gap.count))
        case .logStreamClose(let close):
            session.streams[close.streamID] = nil
        case .processStates(let states):
            await server.registry.setDemos(nodeID, states.processes)
        case .containerStates(let states):
            await server.registry.setContainers(nodeID, states.containers)
        case .commandOutput(let output):
            server.commands.submit(nodeID: nodeID, output: output)
        case .commandExit(let exit):
            server.commands.submit(nodeID: nodeID, exit: exit)
        case .ptyOutput(let output):
            await server.commands.ptyOutput(nodeID: nodeID, output)
        case .ptyClose(let close):
            await server.commands.ptyClosed(nodeID: nodeID, close)
        case .installProgress(let progress):
            await server.installs.progress(from: nodeID, progress)
        case .updateStatus(let status):
            logger.info("agent update", metadata: ["version": "\(status.version)", "state": "\(status.state.name)", "message": "\(status.message)"])
            await server.updates.agentReported(nodeID: nodeID, status)
        case .ping(let ping):
            session.link.send([.pong(Pong(nonce: ping.nonce))])
        case .pong:
            break
        case .error(let error):
            logger.warning("agent reported an error", metadata: ["code": "\(error.code)", "message": "\(error.message)"])
        default:
            session.link.send([.error(ErrorMessage(code: "unexpected_message", fatal: false, message: "\(message.type.name) is not sent by agents"))])
        }
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
