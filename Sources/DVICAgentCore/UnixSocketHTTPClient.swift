public import NIOCore
import NIOPosix

/// A tiny HTTP/1.1 client over a Unix domain socket: one `GET` per connection with
/// `Connection: close`, the response read to the end and parsed. Enough for the Docker Engine
/// API, without an HTTP client library in the agent.
public struct UnixSocketHTTPClient: Sendable {
    public var socketPath: String
    public var eventLoopGroup: any EventLoopGroup
    /// Responses larger than this are refused.
    public var maxResponseBytes: Int

    public init(socketPath: String, eventLoopGroup: any EventLoopGroup, maxResponseBytes: Int = 8 << 20) {
        self.socketPath = socketPath
        self.eventLoopGroup = eventLoopGroup
        self.maxResponseBytes = maxResponseBytes
    }

    public func get(_ path: String, timeout: Duration = .seconds(10)) async throws -> HTTPResponse {
        let channel = try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.seconds(5))
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let limit = maxResponseBytes
        return try await withThrowingTaskGroup(of: HTTPResponse?.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    let request = "GET \(path) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: dvic-agent\r\nConnection: close\r\n\r\n"
                    try await outbound.write(ByteBuffer(string: request))
                    var received: [UInt8] = []
                    for try await buffer in inbound {
                        received += buffer.readableBytesView
                        guard received.count <= limit else {
                            throw AgentError(code: .http, message: "response to \(path) is larger than \(limit) bytes")
                        }
                    }
                    guard let response = HTTPResponse.parse(received) else {
                        throw AgentError(code: .http, message: "incomplete HTTP response to \(path)")
                    }
                    return response
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            guard let first = try await group.next(), let response = first else {
                group.cancelAll()
                throw AgentError(code: .http, message: "no answer to \(path) within \(timeout)")
            }
            group.cancelAll()
            return response
        }
    }
}
