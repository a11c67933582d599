/// One agent build the server can hand out: a signed build from the store
/// (`<data>/agent-builds/<version>/`), or the unsigned fallback binary next to the server.
public struct AgentBuild: Sendable, Hashable, Codable {
    public var version: String
    /// SHA-256 of the executable, 64 lowercase hex digits.
    public var sha256Hex: String
    public var size: Int
    /// The executable on the server's disk.
    public var path: String
    /// The release key's Ed25519 signature over the SHA-256 digest, 128 hex digits; nil for
    /// the unsigned fallback binary.
    public var signatureHex: String?
    /// Milliseconds since the epoch; 0 for the fallback.
    public var uploadedAt: Int64
    public var uploadedBy: String

    public init(
        version: String, sha256Hex: String, size: Int, path: String, signatureHex: String?,
        uploadedAt: Int64 = 0, uploadedBy: String = ""
    ) {
        self.version = version
        self.sha256Hex = sha256Hex
        self.size = size
        self.path = path
        self.signatureHex = signatureHex
        self.uploadedAt = uploadedAt
        self.uploadedBy = uploadedBy
    }

    public var isSigned: Bool { signatureHex != nil }

    /// `manifest.json` beside the executable: everything but the path, which is where the
    /// manifest is.
    struct Manifest: Codable {
        var version: String
        var sha256: String
        var size: Int
        var signature: String
        var uploadedAt: Int64
        var uploadedBy: String
    }
}
