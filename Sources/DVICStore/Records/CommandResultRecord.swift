/// How a command ended on one node. Saving a result for the same (command, node)
/// again replaces it.
public struct CommandResultRecord: Hashable, Sendable {
    public var commandID: String
    public var nodeID: String
    /// nil when the process did not exit normally (signal, timeout, node offline).
    public var exitCode: Int?
    public var signal: Int?
    /// `exited`, `signalled`, `timeout`, `offline`, …; stored as given.
    public var reason: String
    public var durationMs: Int64
    /// Already truncated by the caller.
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var finishedAt: Int64

    public init(
        commandID: String,
        nodeID: String,
        exitCode: Int?,
        signal: Int? = nil,
        reason: String,
        durationMs: Int64,
        stdout: [UInt8] = [],
        stderr: [UInt8] = [],
        finishedAt: Int64
    ) {
        self.commandID = commandID
        self.nodeID = nodeID
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.durationMs = durationMs
        self.stdout = stdout
        self.stderr = stderr
        self.finishedAt = finishedAt
    }
}
