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
///
/// A drain started by `push(_:startingDrain:)` waits `gather` first (`Duration.ingestGather`
/// for the ingest inboxes). Why: at 10,000 nodes the ingest inboxes started about 4,500
/// drains a second (a temporary counter's figure), a few items each, and every one woke a
/// pool thread: 11,700 futex calls a second in the server. A 10 ms gather cut that to
/// about 2,500, and the server's CPU for the same load by about 4 % (Benchmarks/README.md,
/// "Seventh round"). A reader is never answered late, since readers drain the inbox
/// themselves before they answer.
public final class ActorInbox<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var draining = false
    }

    private let state = Mutex(State())
    /// How long a drain started by `push(_:startingDrain:)` lets items gather.
    public let gather: Duration

    public init(gather: Duration = .zero) {
        self.gather = gather
    }

    /// Queues `item`; when no drain is running, starts `drain` in a task of its own after
    /// `gather`, so that one drain takes everything pushed meanwhile.
    public func push(_ item: Item, startingDrain drain: @escaping @Sendable () async -> Void) {
        guard push(item) else { return }
        let gather = gather
        Task {
            if gather > .zero { try? await Task.sleep(for: gather) }
            await drain()
        }
    }

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

extension Duration {
    /// The gather of the ingest inboxes (`LogRouter`, `MetricStore`, the registry's
    /// sightings); why it exists is `ActorInbox`'s comment. One value for the three, so
    /// that it is tuned in one place.
    static let ingestGather: Duration = .milliseconds(10)
}
