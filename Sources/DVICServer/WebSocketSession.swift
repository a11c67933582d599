public import DVICProtocol
public import HummingbirdWebSocket
internal import NIOCore
internal import NIOWebSocket
internal import ServiceLifecycle

/// What both WebSocket endpoints do the same way: frames out in one binary message,
/// and a session that ends on the server's graceful shutdown, so that a silent peer
/// never holds the server's exit.
enum WebSocketSession {
    /// Runs `body` until it returns or the server begins shutting down (then the peer
    /// is told the server is going away).
    static func untilShutdown(_ outbound: WebSocketOutboundWriter, _ body: @escaping @Sendable () async throws -> Void) async throws {
        do {
            try await cancelWhenGracefulShutdown { try await body() }
        } catch is CancellationError {
            try? await outbound.close(.goingAway, reason: "server shutting down")
        }
    }

    /// Encodes `messages` as frames of one binary message; returns its size in bytes.
    @discardableResult
    static func write(_ messages: [Message], encoder: inout FrameEncoder, to outbound: WebSocketOutboundWriter) async throws -> Int {
        var buffer = ByteBuffer()
        for message in messages { try encoder.encode(message, into: &buffer) }
        let size = buffer.readableBytes
        try await outbound.write(.binary(buffer))
        return size
    }
}
