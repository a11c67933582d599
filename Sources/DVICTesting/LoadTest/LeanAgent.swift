public import Crypto
public import DVICProtocol
import Foundation
public import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// The load test's simulated agent: the same protocol as `SimulatedAgent` (signed
/// handshake, frames in binary WebSocket messages, deflate with dictionary 1, answers to
/// commands, terminals and pings) on a bare NIO channel instead of an async WebSocket
/// client.
///
/// Why a second one: with 10,000 nodes on the server's own two cores, `SimulatedAgent`'s
/// two tasks per node, its async streams and async writer cost the generator about 0.8 of
/// a core (perf: Swift concurrency, retain/release and NIO's async bridges), which the
/// server then lacked. Here a send is an encode and one `writeAndFlush`, and what arrives
/// is handled on the event loop as it is read. Tests keep `SimulatedAgent`, whose message
/// log and waiting helpers they need.
public final class LeanAgent: Sendable {
    public let nodeID: String
    public let privateKey: Curve25519.Signing.PrivateKey
    public let agentVersion: String
    public let compression: FrameEncoder.Compression?
    /// Called with every message received, on the event loop; it must not block.
    private let observer: @Sendable (Message) -> Void

    private struct State {
        var channel: (any Channel)?
        var encoder: FrameEncoder?
        var connected = false
        var closeReason: String?
        var bytes = 0
        var frames = 0
        /// Masking keys: `WebSocketMaskingKey.random()` asks the kernel for every frame.
        var masks = SplitMix64(seed: 0)
    }

    private let state = Mutex(State())

    public init(
        nodeID: String, privateKey: Curve25519.Signing.PrivateKey, agentVersion: String = "0.1.0-load",
        compression: FrameEncoder.Compression? = .init(threshold: 128, dictionaryID: 1), observer: @escaping @Sendable (Message) -> Void
    ) {
        self.nodeID = nodeID
        self.privateKey = privateKey
        self.agentVersion = agentVersion
        self.compression = compression
        self.observer = observer
        state.withLock { $0.masks = SplitMix64(seed: UInt64(UInt(bitPattern: nodeID.hashValue))) }
    }

    public var isConnected: Bool { state.withLock { $0.connected } }
    /// The current connection's event loop: the driver runs a node's ticks on it, so
    /// its writes go straight down the pipeline instead of hopping threads one by one.
    public var eventLoop: (any EventLoop)? { state.withLock { $0.connected ? $0.channel?.eventLoop : nil } }
    public var closeReason: String? { state.withLock { $0.closeReason } }
    /// WebSocket payload bytes sent so far (after compression), over every connection.
    public var bytesSent: Int { state.withLock { $0.bytes } }
    /// Protocol frames sent so far, over every connection.
    public var framesSent: Int { state.withLock { $0.frames } }

    /// Connects to `url` (ws://host:port/path) and completes the handshake; returns the welcome.
    @discardableResult
    public func connect(url: String, timeout: Duration = .seconds(10)) async throws -> Welcome {
        disconnect()
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
            throw HarnessError("not a ws://host:port URL: \(url)")
        }
        let path = parsed.path.isEmpty ? "/" : parsed.path
        // One loop for the channel, its handler and the welcome promise, so the handshake's
        // outcome is settled in one place without locks.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let welcome = loop.makePromise(of: Welcome.self)
        let handler = LeanAgentHandler(agent: self, welcome: welcome)
        let requestKey = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .connectTimeout(.seconds(Int64(timeout.components.seconds)))
                .channelInitializer { channel in
                    let request = LeanUpgradeRequest(host: "\(host):\(port)", path: path)
                    let upgrader = NIOWebSocketClientUpgrader(requestKey: requestKey, maxFrameSize: 4 << 20, automaticErrorHandling: true) { channel, _ in
                        channel.pipeline.addHandler(handler)
                    }
                    let configuration: NIOHTTPClientUpgradeSendableConfiguration = (
                        upgraders: [upgrader],
                        completionHandler: { context in context.pipeline.removeHandler(name: "lean-request", promise: nil) }
                    )
                    // forwardBytes: the challenge often arrives in the same read as the 101.
                    return channel.pipeline.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes, withClientUpgrade: configuration).flatMap {
                        channel.pipeline.addHandler(request, name: "lean-request")
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            loop.execute { handler.settle(.failure(error)) }
            finish(reason: "\(error)")
            throw HarnessError("connect failed: \(error)")
        }
        state.withLock { state in
            state.channel = channel
            state.closeReason = nil
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            handler.settle(.failure(HarnessError("closed during handshake")))
            self?.finish(reason: handler.closeReason ?? "connection closed", channel: channel)
        }
        let deadline = loop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)) {
            handler.settle(.failure(HarnessError("handshake timed out")))
            channel.close(promise: nil)
        }
        do {
            let answer = try await welcome.futureResult.get()
            deadline.cancel()
            let compression = compression
            try state.withLock { state in
                // Made under the lock: the encoder (and its zlib state) never leaves it.
                state.encoder = try FrameEncoder(compression: compression)
                state.connected = true
            }
            return answer
        } catch {
            deadline.cancel()
            channel.close(promise: nil)
            throw HarnessError("handshake failed: \(error)")
        }
    }

    /// Encodes `messages` into one WebSocket message and writes it; dropped when offline.
    public func send(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        let written: (any Channel, WebSocketFrame)? = state.withLock { state in
            guard state.connected, let channel = state.channel, var encoder = state.encoder else { return nil }
            state.encoder = nil
            defer { state.encoder = encoder }
            guard let buffer = try? encoder.encode(messages) else { return nil }
            state.bytes += buffer.readableBytes
            state.frames += messages.count
            return (channel, WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(using: &state.masks), data: buffer))
        }
        guard let (channel, frame) = written else { return }
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Sends the hello (on the event loop, during the handshake).
    func hello(nonce: [UInt8]) throws -> ByteBuffer {
        let signature = try privateKey.signature(for: HelloSignature.signedBytes(nonce: nonce, nodeID: nodeID))
        let hello = Hello(version: 1, nodeID: nodeID, agentVersion: agentVersion, capabilities: ["deflate", "zdict:1"], signature: Array(signature))
        // Never deflated (it is short), so no zlib state is made for it.
        var encoder = try FrameEncoder(compression: nil)
        let buffer = try encoder.encode([.hello(hello)])
        state.withLock { state in
            state.bytes += buffer.readableBytes
            state.frames += 1
        }
        return buffer
    }

    /// A message arrived after the welcome: tell the observer, answer what needs an answer.
    func received(_ message: Message) {
        observer(message)
        let replies = SimulatedAgent.respond(to: message)
        if !replies.isEmpty { send(replies) }
    }

    /// Drops the connection at once, as a crash or a pulled cable would.
    public func disconnect() {
        let channel = state.withLock { state -> (any Channel)? in
            state.connected = false
            return state.channel
        }
        channel?.close(promise: nil)
    }

    /// Ends the connection with a close frame and waits until it is gone.
    public func close() async {
        guard let channel = state.withLock({ $0.channel }) else { return }
        var data = channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: .normalClosure)
        try? await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)).get()
        _ = try? await channel.closeFuture.get()
    }

    private func finish(reason: String, channel: (any Channel)? = nil) {
        state.withLock { state in
            if let channel, let current = state.channel, current !== channel { return }
            state.connected = false
            state.encoder = nil
            state.closeReason = state.closeReason ?? reason
        }
    }
}
