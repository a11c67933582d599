import Synchronization

/// The output bytes a command may still send, shared by its stdout and stderr readers.
final class OutputBudget: Sendable {
    private let state: Mutex<(left: Int, truncated: Bool)>

    init(limit: Int) {
        state = Mutex((max(0, limit), false))
    }

    /// How many of `count` bytes may be sent.
    func take(_ count: Int) -> Int {
        state.withLock { state in
            let allowed = min(count, state.left)
            state.left -= allowed
            if allowed < count { state.truncated = true }
            return allowed
        }
    }

    var truncated: Bool { state.withLock { $0.truncated } }
}
