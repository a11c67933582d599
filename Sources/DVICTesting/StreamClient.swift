public import DVICProtocol
import Foundation
import Logging
import NIOCore
import Synchronization
import WSClient
import HTTPTypes

/// A dashboard/CLI-style client of `/v1/stream`: authenticates with a bearer token,
/// subscribes, and collects what the server sends.
public final class StreamClient: Sendable {
    private let received = Mutex<[Message]>([])
    private let outbound = Mutex<AsyncStream<[Message]>.Continuation?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let closed = Mutex<String?>(nil)
    /// Whether `messages` keeps everything (the load test's subscriber follows a whole
    /// fleet for minutes and only counts; it keeps just `streamReady` and errors).
    private let keepsMessages: Bool
    /// Called with every message received, on the connection's task; must not block.
    private let observer: (@Sendable (Message) -> Void)?

    public init(keepsMessages: Bool = true, observer: (@Sendable (Message) -> Void)? = nil) {
        self.keepsMessages = keepsMessages
        self.observer = observer
    }

    /// Connects and sends `streamAuth`; returns once `streamReady` (or an error) came.
    public func connect(url: String, token: String, origin: String? = nil, timeout: Duration = .seconds(10)) async throws -> StreamReady {
        let (stream, continuation) = AsyncStream<[Message]>.makeStream()
        outbound.withLock { $0 = continuation }
        let newTask = Task { [self] in
            var configuration = WebSocketClientConfiguration()
            // The protocol's WebSocket message limit, as the CLI sets it; the client's
            // default (16 KiB) closed on a viewer's gathered updates.
            configuration.maxFrameSize = 4 << 20
            if let origin { configuration.additionalHeaders[.origin] = origin }
            var logger = Logger(label: "stream-client")
            logger.logLevel = .critical
            do {
                _ = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, writer, _ in
                    var encoder = try FrameEncoder(compression: nil)
                    var decoder = FrameDecoder()
                    try await writer.write(.binary(try encoder.encode([.streamAuth(StreamAuth(token: token))])))
                    try await withThrowingDiscardingTaskGroup { group in
                        group.addTask {
                            var encoder = try FrameEncoder(compression: nil)
                            for await batch in stream { try await writer.write(.binary(try encoder.encode(batch))) }
                        }
                        for try await message in inbound.messages(maxSize: 4 << 20) {
                            guard case .binary(let buffer) = message else { continue }
                            let decoded = try decoder.decode(message: buffer)
                            if let observer = self.observer { decoded.forEach(observer) }
                            if self.keepsMessages {
                                self.received.withLock { $0 += decoded }
                            } else {
                                let kept = decoded.filter { if case .streamReady = $0 { true } else if case .error = $0 { true } else { false } }
                                if !kept.isEmpty { self.received.withLock { $0 += kept } }
                            }
                        }
                        self.outbound.withLock { $0?.finish() }
                    }
                }
                closed.withLock { $0 = "closed" }
            } catch {
                closed.withLock { $0 = "\(error)" }
            }
        }
        task.withLock { $0 = newTask }
        guard await waitFor(timeout: timeout, { if case .streamReady = $0 { true } else if case .error = $0 { true } else { false } }) else {
            throw HarnessError("no answer to streamAuth: \(closed.withLock { $0 } ?? "timed out")")
        }
        for message in messages {
            if case .streamReady(let ready) = message { return ready }
            if case .error(let error) = message { throw HarnessError("refused: \(error.code)") }
        }
        throw HarnessError("unreachable")
    }

    public func send(_ messages: [Message]) {
        _ = outbound.withLock { $0?.yield(messages) }
    }

    public var messages: [Message] { received.withLock { $0 } }
    public var closeReason: String? { closed.withLock { $0 } }

    /// Polls (every 20 ms) until some message matches; false on timeout.
    public func waitFor(timeout: Duration = .seconds(10), _ match: @Sendable (Message) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if received.withLock({ $0.contains(where: match) }) { return true }
            if closed.withLock({ $0 }) != nil { return received.withLock { $0.contains(where: match) } }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    public func close() async {
        outbound.withLock { $0?.finish() }
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
    }
}
