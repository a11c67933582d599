public import DVICProtocol
internal import Logging
internal import NIOCore
internal import NIOWebSocket
internal import Synchronization
internal import WSClient

/// The CLI's side of `/v1/stream` (Spec/protocol.md 5.1): `streamAuth` first, then
/// frames of the binary protocol in WebSocket binary messages, both ways. Messages
/// from the server arrive on `messages` (one reader); `send` may be called from
/// anywhere.
public final class LiveStream: Sendable {
    public let ready: StreamReady
    /// Everything the server sends after `streamReady`; ends with an error when the
    /// connection drops.
    public let messages: AsyncThrowingStream<Message, any Error>
    private let outbound: AsyncStream<[Message]>.Continuation
    private let task: Task<Void, Never>
    private let nextNonce = Mutex<UInt64>(0)

    private init(ready: StreamReady, messages: AsyncThrowingStream<Message, any Error>, outbound: AsyncStream<[Message]>.Continuation, task: Task<Void, Never>) {
        self.ready = ready
        self.messages = messages
        self.outbound = outbound
        self.task = task
    }

    /// Connects, authenticates and returns once the server answered `streamReady`.
    /// The stream with `subscription` active, or nil when it cannot be had: commands that
    /// follow something then poll the REST API alone.
    public static func subscribed(settings: ConnectionSettings, _ subscription: Subscribe, timeout: Duration = .seconds(5)) async -> LiveStream? {
        guard let stream = try? await connect(settings: settings, timeout: timeout) else { return nil }
        var reader = LiveStreamReader(stream)
        if (try? await reader.subscribe(subscription, on: stream)) != nil { return stream }
        await stream.close()
        return nil
    }

    public static func connect(settings: ConnectionSettings, timeout: Duration = .seconds(10)) async throws(CLIError) -> LiveStream {
        let token = try settings.requireToken()
        let url = settings.streamURL
        let server = settings.server
        let (messages, inbound) = AsyncThrowingStream<Message, any Error>.makeStream()
        let (outboundStream, outbound) = AsyncStream<[Message]>.makeStream()
        let (readiness, readinessContinuation) = AsyncStream<Result<StreamReady, CLIError>>.makeStream()

        let task = Task {
            var configuration = WebSocketClientConfiguration()
            configuration.maxFrameSize = 4 << 20
            configuration.closeTimeout = .seconds(2)
            var logger = Logger(label: "dvic-stream")
            logger.logLevel = .critical
            do {
                let close = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { socket, writer, _ in
                    var encoder = try FrameEncoder(compression: nil)
                    var decoder = FrameDecoder(dictionaryIDs: [])
                    try await writer.write(.binary(try encoder.encode([.streamAuth(StreamAuth(token: token))])))
                    var iterator = socket.messages(maxSize: 4 << 20).makeAsyncIterator()
                    // The answer to streamAuth.
                    guard let first = try await iterator.next() else {
                        readinessContinuation.yield(.failure(.unreachable("\(server) closed the live stream before answering")))
                        return
                    }
                    guard case .binary(let buffer) = first else {
                        readinessContinuation.yield(.failure(.server("the live stream sent text, not protocol frames")))
                        return
                    }
                    let answer = try decoder.decode(message: buffer)
                    switch answer.first {
                    case .streamReady(let ready):
                        readinessContinuation.yield(.success(ready))
                        for message in answer.dropFirst() { inbound.yield(message) }
                    case .error(let error) where error.code == "unauthorized":
                        readinessContinuation.yield(.failure(.auth("the server refused the token on the live stream; run `dvic login`")))
                        return
                    case .error(let error):
                        readinessContinuation.yield(.failure(.server("live stream refused: \(error.code): \(error.message)")))
                        return
                    default:
                        readinessContinuation.yield(.failure(.server("unexpected first message on the live stream")))
                        return
                    }
                    try await withThrowingDiscardingTaskGroup { group in
                        group.addTask {
                            var encoder = try FrameEncoder(compression: .init(threshold: 512))
                            for await batch in outboundStream {
                                try await writer.write(.binary(try encoder.encode(batch)))
                            }
                            try? await writer.close(.normalClosure, reason: "dvic done")
                        }
                        while let message = try await iterator.next() {
                            guard case .binary(let buffer) = message else { continue }
                            for decoded in try decoder.decode(message: buffer) { inbound.yield(decoded) }
                        }
                        outbound.finish()
                    }
                }
                let reason = close.flatMap { $0.reason }.flatMap { $0.isEmpty ? nil : $0 }
                readinessContinuation.yield(.failure(.unreachable("\(server) closed the live stream\(reason.map { ": \($0)" } ?? "")")))
                inbound.finish(throwing: CLIError.unreachable("the server closed the live stream\(reason.map { ": \($0)" } ?? "")"))
            } catch {
                readinessContinuation.yield(.failure(.unreachable("cannot open the live stream at \(url): \(error)")))
                inbound.finish(throwing: CLIError.unreachable("the live stream to \(server) was lost: \(error)"))
            }
            readinessContinuation.finish()
        }

        let result: Result<StreamReady, CLIError>? = await withTaskGroup(of: Result<StreamReady, CLIError>?.self) { group in
            group.addTask {
                var iterator = readiness.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .failure(.unreachable("no answer from \(server)'s live stream within \(timeout)"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch result {
        case .success(let ready):
            return LiveStream(ready: ready, messages: messages, outbound: outbound, task: task)
        case .failure(let error):
            outbound.finish()
            task.cancel()
            throw error
        case nil:
            outbound.finish()
            task.cancel()
            throw .unreachable("the live stream to \(server) closed at once")
        }
    }

    public func send(_ messages: [Message]) {
        outbound.yield(messages)
    }

    /// A fresh nonce for a `ping` used as a barrier: the server handles a client's
    /// messages in order, so its `pong` means everything sent before was applied.
    public func makeNonce() -> UInt64 {
        nextNonce.withLock { value in
            value += 1
            return value
        }
    }

    /// Closes politely, waiting a moment for the server to answer.
    public func close() async {
        outbound.finish()
        let task = self.task
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await task.value }
            group.addTask { try? await Task.sleep(for: .seconds(1)) }
            await group.next()
            group.cancelAll()
        }
        task.cancel()
    }
}

/// Reads a `LiveStream`'s messages in order, with a barrier helper.
public struct LiveStreamReader {
    private var iterator: AsyncThrowingStream<Message, any Error>.AsyncIterator

    public init(_ stream: LiveStream) {
        iterator = stream.messages.makeAsyncIterator()
    }

    /// The next message; nil when the stream ended cleanly.
    public mutating func next() async throws(CLIError) -> Message? {
        do {
            return try await iterator.next()
        } catch let error as CLIError {
            throw error
        } catch {
            throw .unreachable("the live stream was lost: \(error)")
        }
    }

    /// Sends `subscribe` then a `ping`, and returns what arrived before the `pong`:
    /// from then on, the subscription is active.
    public mutating func subscribe(_ subscription: Subscribe, on stream: LiveStream) async throws(CLIError) -> [Message] {
        let nonce = stream.makeNonce()
        stream.send([.subscribe(subscription), .ping(Ping(nonce: nonce))])
        var before: [Message] = []
        while let message = try await next() {
            if case .pong(let pong) = message, pong.nonce == nonce { return before }
            if case .error(let error) = message {
                throw .server("the live stream refused the subscription: \(error.code): \(error.message)")
            }
            before.append(message)
        }
        throw .unreachable("the live stream ended")
    }
}
