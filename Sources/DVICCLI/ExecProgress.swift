public import DVICProtocol

/// `dvic exec`'s live count, from the stream's `commandProgress` and from polled
/// command states, whichever is newer. No I/O: the runner feeds it and prints `line`.
public struct ExecProgress: Sendable, Hashable {
    public let commandID: String
    public private(set) var total: Int
    /// Exit code per finished node; -1 when it ended without one (timeout, lost …).
    public private(set) var finished: [String: Int64] = [:]
    /// The server's own done count, which may run ahead of the events seen.
    public private(set) var serverDone = 0
    public private(set) var isDone = false

    public init(commandID: String, total: Int = 0) {
        self.commandID = commandID
        self.total = total
    }

    public var done: Int { max(serverDone, finished.count) }
    public var ok: Int { finished.values.filter { $0 == 0 }.count }
    public var failed: Int { finished.count - ok }

    /// Applies one stream event; events of other commands are ignored.
    public mutating func apply(_ progress: CommandProgress) {
        guard progress.commandID == commandID else { return }
        total = max(total, Int(progress.total))
        serverDone = max(serverDone, Int(progress.done))
        if progress.event == .exit { finished[progress.nodeID] = progress.exitCode }
        if total > 0 && done >= total && finished.count >= total { isDone = true }
    }

    /// Applies a polled state, which is authoritative.
    public mutating func apply(_ state: CLIModel.CommandState) {
        guard state.id == commandID else { return }
        total = state.total
        serverDone = max(serverDone, state.done)
        for result in state.results where result.state == "done" {
            finished[result.node] = result.exitCode ?? -1
        }
        if state.state == "done" { isDone = true }
    }

    /// `12/20 done · 11 ok · 1 failed`.
    public var line: String {
        "\(done)/\(total) done · \(ok) ok · \(failed) failed"
    }
}
