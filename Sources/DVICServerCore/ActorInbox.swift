import Synchronization

/// Hands items from many tasks to one actor without an actor hop per item.
///
/// Why: every agent message used to await `MetricStore` and `LogRouter` in turn, so at
/// 10,000 nodes (30,000 messages a second) the connections spent a large share of the
/// server's CPU switching executors. Pushing is a lock and an append; the first push
/// into an idle inbox asks the caller to start one drain, which takes everything queued
/// so far in one hop, so under load one hop carries hundreds of items.
///
/// Order is kept: items are taken in push order, and a drain processes what it took
/// before it suspends, so two drains never interleave one another's items.
public final class ActorInbox<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var draining = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Queues `item`; true when no drain is running, so the caller must start one.
    public func push(_ item: Item) -> Bool {
        state.withLock { state in
            state.items.append(item)
            if state.draining { return false }
            state.draining = true
            return true
        }
    }

    /// Everything queued, oldest first. Empty ends the drain: the next push starts one.
    public func take() -> [Item] {
        state.withLock { state in
            if state.items.isEmpty {
                state.draining = false
                return []
            }
            var taken: [Item] = []
            swap(&taken, &state.items)
            return taken
        }
    }

    /// Items waiting (for /metrics and tests).
    public var count: Int { state.withLock { $0.items.count } }
}
