public import DVICProtocol
import Synchronization

/// One stream subscriber's live updates, waiting for its connection to write them.
///
/// Bounded: past `limit` the oldest are dropped, so a slow viewer loses its oldest live
/// updates, never the server's memory, and never slows anyone else. (History is always
/// there through the REST API.)
///
/// Why not an `AsyncStream<Message>`: its reader gets one message per resume, and the
/// connection wrote one WebSocket message per event. A viewer following a 10,000-node
/// fleet gets 20,000 log events a second, and that one socket cost the server a task
/// switch, an event-loop hop and a system call each. Here the writer takes everything
/// waiting at once (`take`) and writes it as one WebSocket message.
public final class StreamQueue: Sendable {
    private struct State {
        /// A ring: `items[head...]` are waiting, oldest first; the front is compacted
        /// away now and then instead of shifting on every drop.
        var items: [Message] = []
        var head = 0
        var finished = false
    }

    private let state = Mutex(State())
    private let signal: AsyncStream<Void>.Continuation
    /// Yields once whenever messages may be waiting; ends after `finish`.
    public let signals: AsyncStream<Void>
    public let limit: Int

    public init(limit: Int) {
        self.limit = max(1, limit)
        (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `message`; false when that pushed the oldest waiting one out (or the
    /// queue is finished), for the hub's drop count.
    @discardableResult
    public func push(_ message: Message) -> Bool {
        let kept = state.withLock { state -> Bool in
            guard !state.finished else { return false }
            state.items.append(message)
            guard state.items.count - state.head > limit else { return true }
            state.head += 1
            if state.head >= limit {
                state.items.removeFirst(state.head)
                state.head = 0
            }
            return false
        }
        signal.yield()
        return kept
    }

    /// Up to `maximum` waiting messages, oldest first; empty when none wait.
    public func take(maximum: Int) -> [Message] {
        state.withLock { state in
            let end = min(state.items.count, state.head + max(1, maximum))
            let taken = Array(state.items[state.head..<end])
            state.head = end
            if state.head == state.items.count {
                state.items.removeAll(keepingCapacity: state.items.count <= 1024)
                state.head = 0
            }
            return taken
        }
    }

    /// Messages waiting.
    public var count: Int { state.withLock { $0.items.count - $0.head } }

    /// No more pushes; `signals` ends once read (what is waiting can still be taken).
    public func finish() {
        state.withLock { $0.finished = true }
        signal.finish()
    }
}
