/// A one-time enrollment token for a new agent.
public struct EnrollmentRecord: Hashable, Sendable, CustomStringConvertible {
    /// SHA-256 of the token, computed by the caller.
    public var tokenHash: [UInt8]
    /// The name and tags the enrolled node will get.
    public var name: String
    public var tags: [String]
    /// Username of the creator.
    public var createdBy: String
    public var createdAt: Int64
    public var expiresAt: Int64
    /// Set by `consumeEnrollment`; nil while unused.
    public var usedAt: Int64?
    /// The node that used it; nil while unused.
    public var nodeID: String?

    public init(
        tokenHash: [UInt8],
        name: String,
        tags: [String],
        createdBy: String,
        createdAt: Int64,
        expiresAt: Int64,
        usedAt: Int64? = nil,
        nodeID: String? = nil
    ) {
        self.tokenHash = tokenHash
        self.name = name
        self.tags = tags
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.nodeID = nodeID
    }

    public var description: String {
        "EnrollmentRecord(name: \(self.name), tags: \(self.tags), createdBy: \(self.createdBy), createdAt: \(self.createdAt), expiresAt: \(self.expiresAt), usedAt: \(self.usedAt.map(String.init) ?? "nil"), nodeID: \(self.nodeID ?? "nil"))"
    }
}
