import NIOCore
import Synchronization

/// What the handlers of one SSH connection learn, shared with the task that drives it. The
/// handlers run on the channel's event loop and the task elsewhere, hence the lock.
final class SSHAttempt: Sendable {
    struct State {
        var hostKey = ""
        var hostKeyMismatch: String?
        var passwordOffers = 0
        var authRejected = false
        var timedOut = false
        var firstError: (any Error & Sendable)?
    }

    let state = Mutex(State())

    func update<T: Sendable>(_ body: (inout State) -> T) -> T {
        state.withLock { value in body(&value) }
    }
}
