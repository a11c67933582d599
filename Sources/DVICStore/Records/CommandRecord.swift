/// A shell command sent to one or more nodes.
public struct CommandRecord: Hashable, Sendable {
    /// Chosen by the caller; unique.
    public var id: String
    /// Username of whoever ran it.
    public var actor: String
    public var commandLine: String
    /// Node ids the command went to.
    public var targets: [String]
    public var createdAt: Int64
    public var timeoutMs: Int64

    public init(id: String, actor: String, commandLine: String, targets: [String], createdAt: Int64, timeoutMs: Int64) {
        self.id = id
        self.actor = actor
        self.commandLine = commandLine
        self.targets = targets
        self.createdAt = createdAt
        self.timeoutMs = timeoutMs
    }
}
