internal import DVICProtocol
internal import DVICServerCore
internal import Logging
internal import NIOCore
internal import NIOWebSocket
internal import Prometheus

/// An agent's session after its welcome, on the connection's event loop: binary
/// messages are decoded and routed as they are read, and what the actors send is
/// encoded and written there too.
///
/// Why not the connection's task, as before: at 10,000 agents every message and
/// every acknowledgement cost two task switches (the inbound stream resuming the
/// reader, the link's stream resuming the writer), and those switches and their
/// retain/release were the largest part of the server's CPU. The hot messages
/// (metrics, log batches, command output) only queue to an actor's inbox, which
/// needs no task. The rare ones that await an actor (inventory, stream opens,
/// process lists, terminals, installs, updates) run in a task while this handler
/// holds later messages, and reads, so that order is kept.
///
/// Control frames (ping, pong, close) go on to Hummingbird's WebSocket handler,
/// which still owns the close handshake and the keepalive pings.
final class AgentSessionHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// What one connection remembers between messages.
    struct Session {
        let nodeID: String
        let sessionID: String
        var rate: RateLimiter
        var streams: [UInt32: String] = [:]
        var metricNames: [UInt32: String] = [:]
        /// The node's tags, refreshed with `seen` at most once a second.
        var tags: [String] = []
        /// When this connection last told the registry the node was seen (ms).
        var seenAt: Int64 = .min / 2
    }

    /// Above this many decoded messages waiting behind a slow one, reading stops.
    static let backlogLimit = 4096

    private let server: FleetServer
    private let maxMessageBytes: Int
    private let logger: Logger
    private var session: Session
    private var decoder: FrameDecoder
    private var encoder: FrameEncoder
    /// Set once the link exists (`start`); nil before, when writes are held.
    private var link: AgentLink?
    private var context: ChannelHandlerContext?

    /// Writes handed over before `start` (the welcome must go first).
    private var held: [[Message]] = []
    private var started = false
    /// A flush is queued for the end of this event-loop turn.
    private var flushQueued = false

    /// A fragmented binary message being put together.
    private var fragments: ByteBuffer?
    /// Decoded messages waiting behind one that is being routed in a task.
    private var backlog = CircularBuffer<Message>()
    private var routing = false
    private var readHeld = false
    /// Set on a fatal error or at the end: nothing more is read or routed.
    private var stopped = false
    /// A fatal error before `start` (a message before the welcome, which
    /// Spec/protocol.md 5.1 forbids, or a bad frame): `start` sends it and closes
    /// instead of welcoming, since there is no link to close before then.
    private var refusal: ErrorMessage?

    init(server: FleetServer, nodeID: String, sessionID: String, encoder: FrameEncoder, logger: Logger) {
        let limits = server.configuration.limits
        self.server = server
        self.maxMessageBytes = limits.maxMessageBytes
        self.logger = logger
        self.decoder = FrameDecoder(limits: ProtocolLimits(maxMessageLength: limits.maxMessageBytes))
        self.encoder = encoder
        self.session = Session(
            nodeID: nodeID, sessionID: sessionID,
            rate: RateLimiter(rate: limits.framesPerSecond, burst: limits.framesPerSecond * 2, now: server.clock.now()))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        stopped = true
    }

    /// Writes the welcome (already encoded by the handshake's encoder), then what the
    /// actors sent meanwhile.
    func start(link: AgentLink, welcome: ByteBuffer) {
        self.link = link
        guard let context else { return }
        started = true
        if let refusal {
            held = []
            write([.error(refusal)])
            link.close(reason: "\(refusal.code): \(refusal.message)")
            return
        }
        server.serverMetrics.framesOut.increment()
        server.serverMetrics.bytesOut.increment(by: Int64(welcome.readableBytes))
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: welcome)), promise: nil)
        let waiting = held
        held = []
        for batch in waiting { write(batch) }
        context.flush()
    }

    // MARK: Writing

    /// Encodes a batch as one binary message and writes it. Flushed once per
    /// event-loop turn, so the acknowledgements of one turn share a syscall. With
    /// `flush` false the caller flushes instead (`EventLoopMailbox`, after its whole
    /// batch); true then means this connection now waits for that flush.
    @discardableResult
    func write(_ messages: [Message], flush: Bool = true) -> Bool {
        guard started, let context, let link else {
            held.append(messages)
            return false
        }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        do {
            for message in messages { try encoder.encode(message, into: &buffer) }
        } catch {
            // A message the server cannot encode is a bug of the server: end the
            // connection visibly rather than drop the message.
            logger.error("cannot encode for the agent", metadata: ["error": "\(error)"])
            link.close(reason: "server cannot encode: \(error)")
            return false
        }
        server.serverMetrics.framesOut.increment(by: Int64(messages.count))
        server.serverMetrics.bytesOut.increment(by: Int64(buffer.readableBytes))
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in link.written(messages) }
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: buffer)), promise: promise)
        guard !flushQueued else { return false }
        flushQueued = true
        guard flush else { return true }
        context.eventLoop.assumeIsolated().execute { self.flushNow() }
        return false
    }

    func flushNow() {
        flushQueued = false
        context?.flush()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary:
            guard fragments == nil else { return fatal("protocol_error", "a binary message began inside another") }
            if frame.fin {
                receive(frame.unmaskedData)
            } else {
                fragments = frame.unmaskedData
            }
        case .continuation:
            guard var assembled = fragments else { return fatal("protocol_error", "a continuation frame without a message") }
            var part = frame.unmaskedData
            guard assembled.readableBytes + part.readableBytes <= maxMessageBytes else {
                return fatal("frame_too_large", "a message over \(maxMessageBytes) bytes")
            }
            assembled.writeBuffer(&part)
            if frame.fin {
                fragments = nil
                receive(assembled)
            } else {
                fragments = assembled
            }
        case .text:
            fatal("protocol_error", "text messages are not part of the protocol")
        default:
            // Ping, pong and close are Hummingbird's.
            context.fireChannelRead(data)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopped = true
        link?.close(reason: "connection ended")
        context.fireChannelInactive()
    }

    /// Holds reads while too much waits behind a slow message.
    func read(context: ChannelHandlerContext) {
        if backlog.count >= Self.backlogLimit {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// A whole binary message: decoded at once (rate and sighting are counted as it
    /// arrives), then routed in order.
    func receive(_ buffer: ByteBuffer) {
        guard !stopped else { return }
        // Nothing is routed before `start`, which is what makes a link.
        guard link != nil else { return refuseEarly() }
        let metrics = server.serverMetrics
        metrics.bytesIn.increment(by: Int64(buffer.readableBytes))
        let decoded: [Message]
        do throws(ProtocolError) {
            decoded = try decoder.decode(message: buffer) { error in
                write([.error(ErrorMessage(code: error.name, fatal: false, message: error.message))])
            }
        } catch {
            logger.warning("closing on a protocol error", metadata: ["error": "\(error)"])
            return fatal(error.name, error.message)
        }
        metrics.framesIn.increment(by: Int64(decoded.count))
        let now = server.clock.now()
        guard session.rate.take(Double(decoded.count), now: now) else {
            logger.warning("closing: over the frame rate limit")
            return fatal("rate_limited", "over \(Int(session.rate.rate)) frames per second")
        }
        // At most once a second per connection, not per message, and without a hop
        // (`noteSeen`, `tagIndex`): lastSeen is shown to the second, a node goes
        // offline only after agentTimeout, and an operator's tag change arrives within
        // a second.
        if now - session.seenAt >= 1000 {
            server.registry.noteSeen(session.nodeID)
            session.tags = server.registry.tagIndex.tags(of: session.nodeID)
            session.seenAt = now
        }
        backlog.append(contentsOf: decoded)
        drain()
    }

    /// Routes waiting messages until one needs a task; that one's end resumes here.
    private func drain() {
        while !routing, !stopped, let context, let message = backlog.popFirst() {
            guard let slow = route(message) else { continue }
            routing = true
            let loop = NIOLoopBound(self, eventLoop: context.eventLoop)
            Task {
                await slow()
                loop.eventLoop.execute {
                    let handler = loop.value
                    handler.routing = false
                    handler.drain()
                    handler.resumeReading()
                }
            }
        }
    }

    private func resumeReading() {
        guard readHeld, backlog.count < Self.backlogLimit, let context else { return }
        readHeld = false
        context.read()
    }

    /// A message came before the welcome: read here before `start`, or by the
    /// connection's task before this handler was in the pipeline.
    func refuseEarly() {
        fatal("protocol_error", "a message came before the welcome")
    }

    /// Ends the session on a fatal protocol error: the agent hears why, then the link
    /// closes (the connection's task closes the WebSocket).
    private func fatal(_ code: String, _ reason: String) {
        guard !stopped else { return }
        stopped = true
        backlog.removeAll()
        fragments = nil
        let error = ErrorMessage(code: code, fatal: true, message: reason)
        guard started, let link else {
            refusal = error
            return
        }
        write([.error(error)])
        link.close(reason: "\(code): \(reason)")
    }

    // MARK: Routing

    /// Routes one message. The hot ones queue to an inbox here; the others return the
    /// work to await, which runs before the next message is routed.
    private func route(_ message: Message) -> (@Sendable () async -> Void)? {
        let nodeID = session.nodeID
        let server = self.server
        switch message {
        case .metricDescriptors(let descriptors):
            for descriptor in descriptors.descriptors { session.metricNames[descriptor.id] = descriptor.name }
        case .metricSample(let sample):
            let values = sample.values.map { (name: session.metricNames[$0.id] ?? "metric.\($0.id)", value: $0.value) }
            server.metrics.submit(nodeID: nodeID, nodeTags: session.tags, timestamp: sample.timestamp, values: values)
        case .logBatch(let batch):
            guard let key = session.streams[batch.streamID] else {
                write([.error(ErrorMessage(code: "invalid_value", fatal: false, message: "log stream \(batch.streamID) was not opened"))])
                return nil
            }
            server.logs.submit(
                nodeID: nodeID, nodeTags: session.tags, sessionID: session.sessionID, streamID: batch.streamID, streamKey: key, batch: batch)
        case .logGap(let gap):
            logger.warning("agent dropped log records", metadata: ["stream": "\(session.streams[gap.streamID] ?? "?")", "count": "\(gap.count)"])
            server.serverMetrics.logGapRecords.increment(by: Int64(gap.count))
        case .logStreamClose(let close):
            session.streams[close.streamID] = nil
        case .commandOutput(let output):
            server.commands.submit(nodeID: nodeID, output: output)
        case .commandExit(let exit):
            server.commands.submit(nodeID: nodeID, exit: exit)
        case .ping(let ping):
            write([.pong(Pong(nonce: ping.nonce))])
        case .pong:
            break
        case .error(let error):
            logger.warning("agent reported an error", metadata: ["code": "\(error.code)", "message": "\(error.message)"])
        case .logStreamOpen(let open):
            session.streams[open.streamID] = open.key
            return { await server.logs.openStream(nodeID: nodeID, open) }
        case .inventory(let inventory):
            return { await server.registry.setInventory(nodeID, inventory.attributes) }
        case .processStates(let states):
            return { await server.registry.setDemos(nodeID, states.processes) }
        case .containerStates(let states):
            return { await server.registry.setContainers(nodeID, states.containers) }
        case .ptyOutput(let output):
            return { await server.commands.ptyOutput(nodeID: nodeID, output) }
        case .ptyClose(let close):
            return { await server.commands.ptyClosed(nodeID: nodeID, close) }
        case .installProgress(let progress):
            return { await server.installs.progress(from: nodeID, progress) }
        case .updateStatus(let status):
            logger.info("agent update", metadata: ["version": "\(status.version)", "state": "\(status.state.name)", "message": "\(status.message)"])
            return { await server.updates.agentReported(nodeID: nodeID, status) }
        default:
            write([.error(ErrorMessage(code: "unexpected_message", fatal: false, message: "\(message.type.name) is not sent by agents"))])
        }
        return nil
    }
}
