#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
public import NIOCore
internal import NIOPosix
internal import DVICProtocol

/// `POST /v1/enroll` over plain HTTP, without Foundation's URL loading (which would
/// bring all of Foundation into the agent): one request on its own connection.
///
/// Only `http://` servers: the agent has no TLS client for enrollment yet, and an
/// enrollment token must not cross a network in clear, so `https://` is refused
/// with a clear message rather than downgraded.
public enum HTTPEnrollment {
    /// The `AgentEnrollment` the executable gives its `Agent`.
    public static func client(eventLoopGroup: (any EventLoopGroup)? = nil) -> AgentEnrollment {
        let group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        return { request in try await enroll(request, eventLoopGroup: group) }
    }

    struct Body: Encodable {
        var token: String
        var publicKey: String
        var hostname: String?
        var name: String?
        var tags: [String]
    }

    struct Answer: Decodable {
        var nodeID: String
    }

    static func enroll(_ request: EnrollmentRequest, eventLoopGroup: any EventLoopGroup) async throws -> String {
        let (host, port) = try endpoint(request.serverURL)
        let hostname = request.inventory.first { $0.key == "hostname" }?.value
        let body = try JSONEncoder().encode(Body(
            token: request.token, publicKey: Data(request.publicKey).base64EncodedString(),
            hostname: hostname, name: request.name, tags: request.tags))
        let head = "POST /v1/enroll HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: dvic-agent\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        var payload = ByteBuffer(string: head)
        payload.writeBytes(body)
        let channel = try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let response: HTTPResponse = try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(payload)
            var received: [UInt8] = []
            for try await buffer in inbound {
                received += buffer.readableBytesView
                guard received.count <= 1 << 20 else { throw AgentError(code: .http, message: "enrollment answer too large") }
            }
            guard let response = HTTPResponse.parse(received) else {
                throw AgentError(code: .http, message: "incomplete answer to the enrollment")
            }
            return response
        }
        guard response.status == 201 || response.status == 200 else {
            let text = String(decoding: response.body.prefix(300), as: UTF8.self)
            throw AgentError(code: .http, message: "enrollment refused (\(response.status)): \(text)")
        }
        return try JSONDecoder().decode(Answer.self, from: Data(response.body)).nodeID
    }

    /// Host and port of an `http://host[:port]` (or `ws://`) server URL.
    static func endpoint(_ url: String) throws(AgentError) -> (String, Int) {
        var rest = Substring(url)
        var defaultPort = 80
        if rest.hasPrefix("https://") || rest.hasPrefix("wss://") {
            throw AgentError(code: .invalidConfiguration, message: "enrolling over https is not supported yet; use http:// on a trusted network")
        } else if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else if rest.hasPrefix("ws://") {
            rest = rest.dropFirst(5)
        } else {
            defaultPort = 8080
        }
        let authority = rest.prefix { $0 != "/" }
        if let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) {
            return (String(authority[..<colon]), port)
        }
        guard !authority.isEmpty else { throw AgentError(code: .invalidConfiguration, message: "no host in server URL \(url)") }
        return (String(authority), defaultPort)
    }
}
