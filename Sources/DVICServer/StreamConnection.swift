public import DVICProtocol
public import DVICServerCore
public import HummingbirdWebSocket
public import Logging
internal import ServiceLifecycle
internal import NIOCore
internal import NIOWebSocket
internal import Prometheus

/// The server's side of `/v1/stream` for the dashboard and the CLI: the bearer token
/// in `streamAuth`, then subscriptions, live events and terminals.
public struct StreamConnection: Sendable {
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
        var encoder = try FrameEncoder(compression: .init(threshold: 512))  // never a dictionary: browsers cannot use one
        var decoder = FrameDecoder(limits: ProtocolLimits(maxMessageLength: 1 << 20), dictionaryIDs: [])
        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()

        // First frame: the token. Anything else is refused.
        let principal: Principal
        do {
            guard let first = try await messages.next(), case .binary(let buffer) = first,
                case .streamAuth(let auth)? = try decoder.decode(message: buffer).first,
                let known = await server.auth.authenticate(token: auth.token)
            else {
                try await write([.error(ErrorMessage(code: "unauthorized", fatal: true, message: "send streamAuth with a valid token first"))], encoder: &encoder, outbound: outbound)
                try await outbound.close(.policyViolation, reason: "unauthorized")
                return
            }
            principal = known
        } catch {
            try? await outbound.close(.protocolError, reason: "bad first frame")
            return
        }
        try await write([.streamReady(StreamReady(role: principal.role.rawValue, serverVersion: FleetServer.version))], encoder: &encoder, outbound: outbound)

        let (viewerID, events) = await server.hub.add(role: principal.role)
        let viewer = ViewerLink(viewerID: viewerID)
        await server.commands.addViewer(viewer)
        server.serverMetrics.streamSubscribers.increment()
        defer { server.serverMetrics.streamSubscribers.decrement() }
        var viewerLogger = logger
        viewerLogger[metadataKey: "viewer"] = "\(viewerID)"
        viewerLogger[metadataKey: "user"] = "\(principal.username)"

        try await withThrowingDiscardingTaskGroup { group in
            // Live events (lossy) and direct answers (not) share the socket; each
            // write is one whole WebSocket message, so the two never interleave frames.
            group.addTask {
                var encoder = try FrameEncoder(compression: .init(threshold: 512))
                // What gathered during the last write goes out together, as WebSocket
                // messages of up to 256 frames and about 1 MiB (the protocol allows 4 MiB
                // per message), not one message per event.
                for await _ in events.signals {
                    while true {
                        let batch = events.take(maximum: 256)
                        if batch.isEmpty { break }
                        var buffer = ByteBuffer()
                        for message in batch {
                            try encoder.encode(message, into: &buffer)
                            if buffer.readableBytes >= 1 << 20 {
                                try await outbound.write(.binary(buffer))
                                buffer = ByteBuffer()
                            }
                        }
                        if buffer.readableBytes > 0 { try await outbound.write(.binary(buffer)) }
                    }
                }
            }
            group.addTask {
                var encoder = try FrameEncoder(compression: .init(threshold: 512))
                for await message in viewer.outbound {
                    try await write([message], encoder: &encoder, outbound: outbound)
                }
            }
            do {
                reading: while let message = try await messages.next() {
                    guard case .binary(let buffer) = message else { break }
                    let decoded: [Message]
                    do throws(ProtocolError) {
                        decoded = try decoder.decode(message: buffer) { error in
                            viewer.send(.error(ErrorMessage(code: error.name, fatal: false, message: error.message)))
                        }
                    } catch {
                        viewer.send(.error(ErrorMessage(code: error.name, fatal: true, message: error.message)))
                        break reading
                    }
                    for message in decoded {
                        await route(message, principal: principal, viewer: viewer, logger: viewerLogger)
                    }
                }
            } catch {
                viewerLogger.debug("stream ended", metadata: ["error": "\(error)"])
            }
            await server.hub.remove(viewerID)
            await server.commands.removeViewer(viewerID)
            viewer.finish()
        }
        try? await outbound.close(.normalClosure, reason: nil)
    }

    private func route(_ message: Message, principal: Principal, viewer: ViewerLink, logger: Logger) async {
        switch message {
        case .subscribe(let subscription):
            await server.hub.subscribe(viewer.viewerID, subscription)
            // The current state first, so a fresh view needs no REST round trip.
            if subscription.kinds & StreamEvent.Kind.status.rawValue != 0 {
                let filter = StreamFilter(subscription)
                for node in await server.registry.nodes() {
                    let event = StreamEvent(kind: .status, nodeID: node.id, nodeTags: node.tags, message: .nodeStatus(node.statusMessage))
                    if let message = filter.apply(to: event) { viewer.send(message) }
                }
            }
        case .unsubscribe(let unsubscribe):
            await server.hub.unsubscribe(viewer.viewerID, subscriptionID: unsubscribe.subscriptionID)
        case .ptyAttach(let attach):
            guard principal.role.allows(.operator) else {
                viewer.send(.error(ErrorMessage(code: "forbidden", fatal: false, message: "terminals need the operator role")))
                return
            }
            do {
                _ = try await server.commands.attach(principal, viewer: viewer.viewerID, request: attach)
            } catch {
                viewer.send(.error(ErrorMessage(code: error.isNotFound ? "not_found" : "unavailable", fatal: false, message: error.message)))
            }
        case .ptyInput(let input):
            guard principal.role.allows(.operator) else { return }
            await server.commands.ptyInput(viewer: viewer.viewerID, input)
        case .ptyResize(let resize):
            guard principal.role.allows(.operator) else { return }
            await server.commands.ptyResize(viewer: viewer.viewerID, resize)
        case .ptyClose(let close):
            guard principal.role.allows(.operator) else { return }
            await server.commands.ptyCloseByViewer(viewer: viewer.viewerID, sessionID: close.sessionID)
        case .ping(let ping):
            viewer.send(.pong(Pong(nonce: ping.nonce)))
        case .pong:
            break
        default:
            viewer.send(.error(ErrorMessage(code: "unexpected_message", fatal: false, message: "\(message.type.name) is not sent by clients")))
        }
    }

    private func write(_ messages: [Message], encoder: inout FrameEncoder, outbound: WebSocketOutboundWriter) async throws {
        try await WebSocketSession.write(messages, encoder: &encoder, to: outbound)
    }
}
