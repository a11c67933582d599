public import Crypto
public import DVICProtocol
import Foundation
import Logging
import NIOCore
import Synchronization
import WSClient
import NIOWebSocket

/// An agent that speaks the real protocol (enrollment, signed handshake, frames in
/// binary WebSocket messages) without reading a real machine. Tests and
/// `dvic-loadtest` drive thousands of them.
///
/// It answers commands, terminals and pings by itself (see `respond`), keeps every
/// message it receives (unless `keepsMessages` is off, as in the load test, where ten
/// thousand agents would hoard gigabytes), and records the server's log acks.
public final class SimulatedAgent: Sendable {
    public let nodeID: String
    public let privateKey: Curve25519.Signing.PrivateKey
    public let agentVersion: String

    private struct State {
        var outbound: AsyncStream<[Message]>.Continuation?
        var welcome: Welcome?
        var acks: [UInt32: UInt64] = [:]
        var received: [Message] = []
        var connected = false
        var closeReason: String?
        var waiters: [(id: Int, condition: @Sendable (State) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextWaiter = 0
        /// Which connection attempt is current, so a late end of an old one is ignored.
        var generation = 0
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// Whether commands, terminals and pings are answered automatically.
    public let autoRespond: Bool
    /// Whether `received` keeps every message (tests read it; the load test does not).
    public let keepsMessages: Bool
    /// How the agent deflates what it sends (nil: never), as the real agent does by default.
    public let compression: FrameEncoder.Compression?
    /// Called with every message received, on the connection's task; it must not block.
    private let observer: (@Sendable (Message) -> Void)?
    /// WebSocket payload bytes and frames written, for the load test's wire figures.
    private let sentCounters = Mutex<(bytes: Int, frames: Int)>((0, 0))

    public init(
        nodeID: String, privateKey: Curve25519.Signing.PrivateKey, agentVersion: String = "0.1.0-sim", autoRespond: Bool = true,
        keepsMessages: Bool = true, compression: FrameEncoder.Compression? = .init(threshold: 128, dictionaryID: 1),
        observer: (@Sendable (Message) -> Void)? = nil
    ) {
        self.nodeID = nodeID
        self.privateKey = privateKey
        self.agentVersion = agentVersion
        self.autoRespond = autoRespond
        self.keepsMessages = keepsMessages
        self.compression = compression
        self.observer = observer
    }

    /// Makes a key on "the node" and exchanges an enrollment token for a node id.
    public static func enroll(baseURL: String, token: String, name: String, autoRespond: Bool = true) async throws -> SimulatedAgent {
        let (nodeID, key) = try await enrollKey(baseURL: baseURL, token: token, name: name)
        return SimulatedAgent(nodeID: nodeID, privateKey: key, autoRespond: autoRespond)
    }

    /// The enrollment alone: a fresh key and the node id the server gave it, so a
    /// caller can build the agent with options of its own.
    public static func enrollKey(baseURL: String, token: String, name: String) async throws -> (nodeID: String, key: Curve25519.Signing.PrivateKey) {
        let key = Curve25519.Signing.PrivateKey()
        let reply = try await APIClient(baseURL: baseURL).post("/v1/enroll", [
            "token": token, "publicKey": key.publicKey.rawRepresentation.base64EncodedString(), "hostname": name,
        ])
        guard reply.status == 201, let nodeID = reply.object["nodeID"] as? String else {
            throw HarnessError("enroll failed: \(reply.status) \(reply.text)")
        }
        return (nodeID, key)
    }

    // MARK: Connection

    /// Connects and completes the handshake; returns the welcome.
    @discardableResult
    public func connect(url: String, timeout: Duration = .seconds(10)) async throws -> Welcome {
        disconnect()
        let generation = state.withLock { state -> Int in
            state.generation += 1
            state.welcome = nil
            state.connected = false
            state.closeReason = nil
            state.acks = [:]
            return state.generation
        }
        let (outbound, continuation) = AsyncStream<[Message]>.makeStream()
        state.withLock { $0.outbound = continuation }
        let newTask = Task { [self] in
            do {
                var configuration = WebSocketClientConfiguration()
                configuration.maxFrameSize = 4 << 20
                var logger = Logger(label: "simulated-agent")
                logger.logLevel = .critical
                let close = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, writer, _ in
                    try await self.session(inbound: inbound, writer: writer, outbound: outbound, ending: continuation, generation: generation)
                }
                finish(generation, reason: close.map { "\($0.closeCode): \($0.reason ?? "")" } ?? "closed")
            } catch {
                finish(generation, reason: "\(error)")
            }
        }
        task.withLock { $0 = newTask }
        guard await wait(timeout: timeout, until: { $0.welcome != nil || $0.closeReason != nil }), let welcome = state.withLock({ $0.welcome }) else {
            throw HarnessError("handshake failed: \(closeReason ?? "timed out")")
        }
        return welcome
    }

    /// `ending` is this connection's own outbound continuation: finishing it (never
    /// the state's, which a newer connection may already have replaced) ends the writer.
    private func session(
        inbound: WebSocketInboundStream, writer: WebSocketOutboundWriter, outbound: AsyncStream<[Message]>,
        ending: AsyncStream<[Message]>.Continuation, generation: Int
    ) async throws {
        var decoder = FrameDecoder()
        var messages = inbound.messages(maxSize: 4 << 20).makeAsyncIterator()
        guard case .binary(let first)? = try await messages.next(), case .challenge(let challenge)? = try decoder.decode(message: first).first else {
            throw HarnessError("no challenge")
        }
        let signature = try privateKey.signature(for: HelloSignature.signedBytes(nonce: challenge.nonce, nodeID: nodeID))
        let hello = Hello(version: 1, nodeID: nodeID, agentVersion: agentVersion, capabilities: ["deflate", "zdict:1"], signature: Array(signature))
        // The hello is never deflated (it is short), so no zlib state is made for it:
        // a deflater costs ~256 KiB, times ten thousand agents in the load test.
        var helloEncoder = try FrameEncoder(compression: nil)
        let helloFrame = try helloEncoder.encode([.hello(hello)])
        count(helloFrame, frames: 1)
        try await writer.write(.binary(helloFrame))
        guard case .binary(let second)? = try await messages.next() else { throw HarnessError("closed during handshake") }
        let answer = try decoder.decode(message: second)
        guard case .welcome(let welcome)? = answer.first else {
            if case .error(let error)? = answer.first { throw HarnessError("refused: \(error.code): \(error.message)") }
            throw HarnessError("no welcome")
        }
        update { state in
            guard state.generation == generation else { return }
            state.welcome = welcome
            state.connected = true
        }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do {
                    var encoder = try FrameEncoder(compression: self.compression)
                    for await batch in outbound {
                        let frame = try encoder.encode(batch)
                        self.count(frame, frames: batch.count)
                        try await writer.write(.binary(frame))
                    }
                } catch {
                    // A message that cannot be encoded is a bug of the caller: close, so
                    // it shows as a lost connection rather than a silently dead writer.
                    try? await writer.close(.protocolError, reason: "agent cannot encode: \(error)")
                    throw error
                }
                try? await writer.close(.normalClosure, reason: "agent closing")
            }
            while case .binary(let buffer)? = try await messages.next() {
                for message in try decoder.decode(message: buffer) {
                    handle(message)
                }
            }
            ending.finish()
        }
    }

    private func finish(_ generation: Int, reason: String) {
        update { state in
            guard state.generation == generation else { return }
            state.connected = false
            state.closeReason = state.closeReason ?? reason
            state.outbound?.finish()
            state.outbound = nil
        }
    }

    /// Drops the connection at once, as a crash or a pulled cable would.
    public func disconnect() {
        task.withLock { task in
            task?.cancel()
            task = nil
        }
        state.withLock { $0.outbound?.finish() }
    }

    /// Ends the connection and waits until it is gone.
    public func close() async {
        state.withLock { $0.outbound?.finish() }
        let running = task.withLock { $0 }
        await running?.value
    }

    public var isConnected: Bool { state.withLock { $0.connected } }
    public var closeReason: String? { state.withLock { $0.closeReason } }
    public var welcome: Welcome? { state.withLock { $0.welcome } }
    public var received: [Message] { state.withLock { $0.received } }
    /// WebSocket payload bytes sent so far (after compression), over every connection.
    public var bytesSent: Int { sentCounters.withLock { $0.bytes } }
    /// Frames (messages) sent so far, over every connection.
    public var framesSent: Int { sentCounters.withLock { $0.frames } }

    private func count(_ frame: ByteBuffer, frames: Int) {
        sentCounters.withLock { $0.bytes += frame.readableBytes; $0.frames += frames }
    }

    // MARK: Sending

    public func send(_ messages: [Message]) {
        _ = state.withLock { $0.outbound?.yield(messages) }
    }

    public func describe(_ descriptors: [MetricDescriptor]) {
        send([.metricDescriptors(MetricDescriptors(descriptors: descriptors))])
    }

    public func openStream(_ streamID: UInt32, key: String, name: String = "sim-demo") {
        send([.logStreamOpen(LogStreamOpen(
            streamID: streamID, key: key, source: .demo, name: name, path: "/tmp/dvic_log_sim", container: "",
            pid: 4242, exe: "/usr/bin/python3", argv: ["python3", "demo.py"], user: "pi", started: 0))])
    }

    public func sendLogs(_ streamID: UInt32, firstSeq: UInt64, texts: [String], timestamp: Int64, severity: Severity = .info) {
        let records = texts.enumerated().map { LogRecord(timestamp: timestamp + Int64($0.offset), severity: severity, text: $0.element) }
        send([.logBatch(LogBatch(streamID: streamID, firstSeq: firstSeq, records: records))])
    }

    // MARK: Waiting

    public func ackedSeq(_ streamID: UInt32) -> UInt64 { state.withLock { $0.acks[streamID] ?? 0 } }

    /// Waits until the server acknowledged `seq` on the stream; false on timeout.
    public func waitForAck(_ streamID: UInt32, seq: UInt64, timeout: Duration = .seconds(10)) async -> Bool {
        await wait(timeout: timeout) { ($0.acks[streamID] ?? 0) >= seq }
    }

    /// Waits until some received message satisfies `match`; false on timeout.
    public func waitForMessage(timeout: Duration = .seconds(10), _ match: @escaping @Sendable (Message) -> Bool) async -> Bool {
        await wait(timeout: timeout) { $0.received.contains(where: match) }
    }

    public func waitUntilClosed(timeout: Duration = .seconds(10)) async -> Bool {
        await wait(timeout: timeout) { $0.closeReason != nil }
    }

    private func wait(timeout: Duration, until condition: @escaping @Sendable (State) -> Bool) async -> Bool {
        let id: Int? = state.withLock { state in
            if condition(state) { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return true }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let registered = state.withLock { state -> Bool in
                if condition(state) { return false }
                state.waiters.append((id, condition, continuation))
                return true
            }
            if !registered {
                continuation.resume(returning: true)
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index).continuation
                }
                expired?.resume(returning: false)
            }
        }
    }

    /// Applies a change and wakes every waiter whose condition now holds.
    private func update(_ change: (inout State) -> Void) {
        let ready = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            change(&state)
            var ready: [CheckedContinuation<Bool, Never>] = []
            let snapshot = state
            var waiting = state.waiters
            waiting.removeAll { waiter in
                guard waiter.condition(snapshot) else { return false }
                ready.append(waiter.continuation)
                return true
            }
            state.waiters = waiting
            return ready
        }
        ready.forEach { $0.resume(returning: true) }
    }

    // MARK: Behaviour

    private func handle(_ message: Message) {
        observer?(message)
        update { state in
            if keepsMessages { state.received.append(message) }
            if case .logAck(let ack) = message {
                state.acks[ack.streamID] = max(state.acks[ack.streamID] ?? 0, ack.seq)
            }
        }
        guard autoRespond else { return }
        let replies = Self.respond(to: message)
        if !replies.isEmpty { send(replies) }
    }

    /// What a simulated node answers: commands run "instantly" (`true` exits 0,
    /// `false` 1, `exit N` N, `echo X` prints X, `sleep` never answers so timeouts
    /// and cancels can be tested, anything else prints a line and exits 0); a
    /// terminal echoes input and ends on `exit N`.
    public static func respond(to message: Message) -> [Message] {
        switch message {
        case .commandRequest(let request):
            let line = request.argv.joined(separator: " ")
            if line.hasPrefix("sleep") { return [] }
            var output = "sim: \(line)\n"
            var code: Int64 = 0
            if line == "true" {
                output = ""
            } else if line == "false" {
                output = ""
                code = 1
            } else if line.hasPrefix("exit "), let value = Int64(line.dropFirst(5)) {
                output = ""
                code = value
            } else if line.hasPrefix("echo ") {
                output = String(line.dropFirst(5)) + "\n"
            } else if line.hasPrefix("uname") {
                output = "Linux simulated 6.1.0 #1 SMP x86_64 GNU/Linux\n"
            }
            var replies: [Message] = []
            if !output.isEmpty { replies.append(.commandOutput(CommandOutput(commandID: request.commandID, stream: .stdout, data: Array(output.utf8)))) }
            replies.append(.commandExit(CommandExit(commandID: request.commandID, reason: .exited, exitCode: code, signal: 0, durationMs: 1, message: "")))
            return replies
        case .commandCancel(let cancel):
            return [.commandExit(CommandExit(commandID: cancel.commandID, reason: .cancelled, exitCode: -1, signal: 15, durationMs: 5, message: "cancelled"))]
        case .ptyOpen(let open):
            return [.ptyOutput(PtyOutput(sessionID: open.sessionID, data: Array("sim$ ".utf8)))]
        case .ptyInput(let input):
            let text = String(decoding: input.data, as: UTF8.self)
            if text.hasPrefix("exit"), let code = Int64(text.dropFirst(4).trimmingCharacters(in: .whitespacesAndNewlines)) {
                return [.ptyClose(PtyClose(sessionID: input.sessionID, exitCode: code, reason: "shell exited"))]
            }
            return [.ptyOutput(PtyOutput(sessionID: input.sessionID, data: input.data))]
        case .ping(let ping):
            return [.pong(Pong(nonce: ping.nonce))]
        default:
            return []
        }
    }
}
