/// A dashboard/CLI account.
///
/// Times are Int64 milliseconds since the Unix epoch, UTC, throughout the store.
public struct UserRecord: Hashable, Sendable, CustomStringConvertible {
    /// Chosen by the caller (a UUID string, say); the store never invents ids for users.
    public var id: String
    /// Unique across users; `createUser`/`updateUser` throw `.conflict` on a clash.
    public var username: String
    /// The caller's encoded password hash (algorithm, salt and all); stored as given.
    public var passwordHash: String
    /// `admin`, `operator` or `viewer`; stored as given, the server decides what it means.
    public var role: String
    public var createdAt: Int64

    public init(id: String, username: String, passwordHash: String, role: String, createdAt: Int64) {
        self.id = id
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.createdAt = createdAt
    }

    // The hash stays out of the description so a logged record leaks nothing crackable.
    public var description: String {
        "UserRecord(id: \(self.id), username: \(self.username), role: \(self.role), createdAt: \(self.createdAt))"
    }
}
