/// A bearer-token session. The store only ever sees the token's hash.
public struct SessionRecord: Hashable, Sendable, CustomStringConvertible {
    /// SHA-256 of the bearer token, computed by the caller.
    public var tokenHash: [UInt8]
    public var userID: String
    /// Read from the user row at lookup, so a rename or a role change applies to live
    /// sessions at once; the values given to `saveSession` are not stored.
    public var username: String
    /// See `username`: always the user's current role.
    public var role: String
    public var createdAt: Int64
    /// The store does not check this on lookup; the caller compares it with its clock
    /// and `pruneSessions(now:)` deletes expired rows.
    public var expiresAt: Int64

    public init(tokenHash: [UInt8], userID: String, username: String, role: String, createdAt: Int64, expiresAt: Int64) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.username = username
        self.role = role
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    // Even a hash of a bearer token is kept out of logs.
    public var description: String {
        "SessionRecord(userID: \(self.userID), username: \(self.username), role: \(self.role), createdAt: \(self.createdAt), expiresAt: \(self.expiresAt))"
    }
}
