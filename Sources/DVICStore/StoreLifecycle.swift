import Synchronization

/// Open/ready/closed state shared by a store's methods and its `run()`.
///
/// PostgreSQL queries must wait until `run()` has started the connection pool and
/// migrated the schema; they park here instead of spinning. `run()` parks here until
/// `close()`. Both waits end early, with `.cancelled`, when the waiting task is.
final class StoreLifecycle: Sendable {
    private enum Phase {
        case starting
        case ready
        case failed(StoreError)
        case closed
    }

    private struct State {
        var phase: Phase
        var nextWaiterID: UInt64 = 0
        var readyWaiters: [UInt64: CheckedContinuation<Result<Void, StoreError>, Never>] = [:]
        var closeWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Calls between `enter()` and `leave()`.
        var active = 0
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var runClaimed = false
    }

    private let state: Mutex<State>

    init(ready: Bool) {
        self.state = Mutex(State(phase: ready ? .ready : .starting))
    }

    /// True for the first caller only: PostgresClient.run() may run once per client
    /// (a second call traps), so a second `run()` must not reach it.
    func claimRun() -> Bool {
        self.state.withLock { state in
            defer { state.runClaimed = true }
            return !state.runClaimed
        }
    }

    var isClosed: Bool {
        self.state.withLock { state in
            if case .closed = state.phase { return true }
            return false
        }
    }

    /// Throws unless the store is ready now (the fast check before every SQLite call).
    func checkReady() throws(StoreError) {
        let result: Result<Void, StoreError>? = self.state.withLock { state in Self.outcome(of: state.phase) }
        switch result {
        case .success: return
        case .failure(let error): throw error
        case nil: throw StoreError(code: .unavailable, message: "the store is not running yet")
        }
    }

    func waitUntilReady() async throws(StoreError) {
        let fast: Result<Void, StoreError>? = self.state.withLock { state in Self.outcome(of: state.phase) }
        if let fast {
            return try fast.get()
        }
        let id = self.state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
                let immediate: Result<Void, StoreError>? = self.state.withLock { state in
                    if let outcome = Self.outcome(of: state.phase) { return outcome }
                    if Task.isCancelled { return .failure(Self.cancelled) }
                    state.readyWaiters[id] = continuation
                    return nil
                }
                if let immediate {
                    continuation.resume(returning: immediate)
                }
            }
        } onCancel: {
            let continuation = self.state.withLock { state in state.readyWaiters.removeValue(forKey: id) }
            continuation?.resume(returning: .failure(Self.cancelled))
        }
        try result.get()
    }

    func markReady() {
        self.finishStarting(.ready)
    }

    func markFailed(_ error: StoreError) {
        self.finishStarting(.failed(error))
    }

    /// Fails calls from now on with `.closed` and wakes `run()`. Returns false if it
    /// was closed already.
    @discardableResult
    func markClosed() -> Bool {
        let (wasClosed, ready, close) = self.state.withLock { state in
            if case .closed = state.phase {
                return (true, [CheckedContinuation<Result<Void, StoreError>, Never>](), [CheckedContinuation<Void, Never>]())
            }
            state.phase = .closed
            let ready = Array(state.readyWaiters.values)
            let close = Array(state.closeWaiters.values)
            state.readyWaiters = [:]
            state.closeWaiters = [:]
            return (false, ready, close)
        }
        for waiter in ready {
            waiter.resume(returning: .failure(.closed()))
        }
        for waiter in close {
            waiter.resume()
        }
        return !wasClosed
    }

    /// Returns once `markClosed()` was called or the task is cancelled.
    func waitUntilClosed() async {
        let id: UInt64? = self.state.withLock { state in
            if case .closed = state.phase { return nil }
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state in
                    if case .closed = state.phase { return true }
                    if Task.isCancelled { return true }
                    state.closeWaiters[id] = continuation
                    return false
                }
                if resumeNow {
                    continuation.resume()
                }
            }
        } onCancel: {
            let continuation = self.state.withLock { state in state.closeWaiters.removeValue(forKey: id) }
            continuation?.resume()
        }
    }

    /// Counts a call as in flight, so `waitUntilIdle()` can let it finish before the
    /// connections go. Throws unless the store is ready.
    func enter() throws(StoreError) {
        let outcome: Result<Void, StoreError> = self.state.withLock { state in
            let outcome = Self.outcome(of: state.phase) ?? .failure(StoreError(code: .unavailable, message: "the store is not running yet"))
            if case .success = outcome {
                state.active += 1
            }
            return outcome
        }
        try outcome.get()
    }

    func leave() {
        let waiters: [CheckedContinuation<Void, Never>] = self.state.withLock { state in
            state.active -= 1
            guard state.active == 0 else { return [] }
            let waiters = state.idleWaiters
            state.idleWaiters = []
            return waiters
        }
        for waiter in waiters {
            waiter.resume()
        }
    }

    /// Returns when no call is in flight (after `markClosed()` no new one starts).
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = self.state.withLock { state in
                if state.active == 0 { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle {
                continuation.resume()
            }
        }
    }

    private func finishStarting(_ phase: Phase) {
        let waiters: [CheckedContinuation<Result<Void, StoreError>, Never>] = self.state.withLock { state in
            guard case .starting = state.phase else { return [] }
            state.phase = phase
            let waiters = Array(state.readyWaiters.values)
            state.readyWaiters = [:]
            return waiters
        }
        let outcome = self.state.withLock { state in Self.outcome(of: state.phase) } ?? .success(())
        for waiter in waiters {
            waiter.resume(returning: outcome)
        }
    }

    private static let cancelled = StoreError(code: .cancelled, message: "the calling task was cancelled")

    private static func outcome(of phase: Phase) -> Result<Void, StoreError>? {
        switch phase {
        case .starting: nil
        case .ready: .success(())
        case .failed(let error): .failure(error)
        case .closed: .failure(.closed())
        }
    }
}
