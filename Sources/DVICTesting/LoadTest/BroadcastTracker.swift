import DVICProtocol

import Synchronization

/// When each command's last result reached the dashboard stream (a `commandProgress`
/// with done == total), by command id; the broadcaster learns the id only when its
/// POST returns, which may be after the results.
final class BroadcastTracker: Sendable {
    private let finished = Mutex<[String: (at: ContinuousClock.Instant, total: Int)]>([:])

    func progress(_ progress: CommandProgress, at now: ContinuousClock.Instant) {
        guard progress.total > 0, progress.done >= progress.total else { return }
        finished.withLock { if $0[progress.commandID] == nil { $0[progress.commandID] = (now, Int(progress.total)) } }
    }

    func finish(of commandID: String) -> (at: ContinuousClock.Instant, total: Int)? {
        finished.withLock { $0[commandID] }
    }
}
