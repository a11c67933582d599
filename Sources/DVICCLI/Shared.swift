internal import Synchronization

/// A value shared by the tasks of one command (progress, terminal state), behind a
/// lock. A class, so that concurrent closures can capture it.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { value in body(&value) }
    }
}
