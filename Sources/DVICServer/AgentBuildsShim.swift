// TEMPORARY: stands in for the update branch's AgentBuilds until it is merged (same interface).
// Delete this file at the merge.
internal import Crypto
internal import Foundation
public import Logging
public import DVICServerCore
internal import Hummingbird
internal import NIOCore

public struct AgentBuild: Sendable, Hashable {
    public var version: String
    public var sha256Hex: String
    public var size: Int
    public var path: String
    public var signatureHex: String?
}

public actor AgentBuilds {
    public nonisolated let releasePublicKeyText: String?
    let fallbackBinaryPath: String?
    private var tokens: [String: (String, ContinuousClock.Instant)] = [:]

    public init(directory: String, releaseKeyText: String?, fallbackBinaryPath: String?, clock: FleetClock = .system, logger: Logger) {
        self.releasePublicKeyText = releaseKeyText
        self.fallbackBinaryPath = fallbackBinaryPath
    }

    public func installBuild() async -> AgentBuild? {
        let path = fallbackBinaryPath ?? (Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("dvic-agent").path ?? "")
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let hex = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        return AgentBuild(version: "0.1.0", sha256Hex: hex, size: data.count, path: path, signatureHex: nil)
    }

    public func issueDownloadToken(version: String, ttl: Duration) async -> String {
        let token = AuthService.newToken(prefix: "dvdl_")
        tokens[token] = (version, .now + ttl)
        return token
    }

    func redeem(_ token: String) -> Bool {
        guard let (_, expiry) = tokens.removeValue(forKey: token) else { return false }
        return expiry > .now
    }
}

extension FleetServer {
    func addAgentDownloadShimRoute(_ router: Router<APIContext>) {
        router.get("/v1/agent/download") { request, _ -> Response in
            guard let token = request.uri.queryParameters.get("token"), await self.agentBuilds.redeem(token),
                let build = await self.agentBuilds.installBuild(), let data = FileManager.default.contents(atPath: build.path)
            else { throw APIError(.unauthorized, "download_token", "unknown, used or expired download token") }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
