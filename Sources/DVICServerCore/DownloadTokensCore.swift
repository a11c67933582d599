/// One-time download tokens for agent builds, as a value type with no I/O: the install script
/// and the update offers fetch `GET /v1/agent/download?token=T` with one, so the download needs
/// no bearer token and a leaked URL is worth one download within its lifetime.
///
/// Only the SHA-256 of each token is kept, as for enrollment tokens.
public struct DownloadTokensCore: Sendable {
    public struct Grant: Sendable, Hashable {
        public var version: String
        public var expiresAt: Int64
    }

    public enum Redemption: Sendable, Hashable {
        case granted(version: String)
        /// Never issued, or already used (a used token is forgotten).
        case unknown
        case expired
    }

    private var grants: [[UInt8]: Grant] = [:]

    public init() {}

    public var count: Int { grants.count }

    public mutating func issue(tokenHash: [UInt8], version: String, now: Int64, ttlMilliseconds: Int64) {
        prune(now: now)
        grants[tokenHash] = Grant(version: version, expiresAt: now + ttlMilliseconds)
    }

    /// Consumes the token: a second redemption is `.unknown`.
    public mutating func redeem(tokenHash: [UInt8], now: Int64) -> Redemption {
        guard let grant = grants.removeValue(forKey: tokenHash) else { return .unknown }
        guard now < grant.expiresAt else { return .expired }
        return .granted(version: grant.version)
    }

    /// Drops expired grants (they could only answer `.expired`).
    public mutating func prune(now: Int64) {
        grants = grants.filter { $0.value.expiresAt > now }
    }
}
