/// One entry of the audit trail: who did what to what.
public struct AuditRecord: Hashable, Sendable {
    /// Assigned by the store (increasing); ignored by `appendAudit`.
    public var id: Int64
    public var at: Int64
    /// Username of the actor.
    public var actor: String
    public var role: String
    /// Dotted verb, e.g. `command.run`, `terminal.open`, `enrollment.create`, `user.login`.
    public var action: String
    /// What was acted on (node id, username, command id, …).
    public var target: String
    /// Extra facts; never secrets.
    public var detail: [String: String]

    public init(id: Int64 = 0, at: Int64, actor: String, role: String, action: String, target: String, detail: [String: String] = [:]) {
        self.id = id
        self.at = at
        self.actor = actor
        self.role = role
        self.action = action
        self.target = target
        self.detail = detail
    }
}
