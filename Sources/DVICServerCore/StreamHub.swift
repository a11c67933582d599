public import DVICProtocol
import Synchronization

/// Fans live events out to dashboard and CLI connections by their subscriptions.
///
/// Each subscriber reads a `StreamQueue` that keeps only its newest entries: a slow
/// viewer loses its oldest live updates, never the server's memory, and never slows
/// anyone else. (History is always there through the REST API.)
public actor StreamHub {
    private struct Subscriber {
        var role: Role
        var filters: [UInt32: StreamFilter] = [:]
        let queue: StreamQueue
    }

    private var subscribers: [Int: Subscriber] = [:]
    private var nextID = 0
    /// Live updates queued per subscriber before the oldest are dropped.
    public let bufferLimit: Int
    /// Drops counted across subscribers, for /metrics.
    public private(set) var dropped = 0
    /// What is subscribed, readable without a hop to this actor (see `StreamInterest`).
    private let interest = Mutex(StreamInterest())

    public init(bufferLimit: Int = 4096) {
        self.bufferLimit = bufferLimit
    }

    public var subscriberCount: Int { subscribers.count }

    /// Registers a connection; its events come out of the returned queue until `remove`.
    public func add(role: Role) -> (id: Int, events: StreamQueue) {
        nextID += 1
        let queue = StreamQueue(limit: bufferLimit)
        subscribers[nextID] = Subscriber(role: role, queue: queue)
        return (nextID, queue)
    }

    public func remove(_ id: Int) {
        subscribers.removeValue(forKey: id)?.queue.finish()
        refreshInterest()
    }

    public func subscribe(_ id: Int, _ subscription: Subscribe) {
        subscribers[id]?.filters[subscription.subscriptionID] = StreamFilter(subscription)
        refreshInterest()
    }

    public func unsubscribe(_ id: Int, subscriptionID: UInt32) {
        subscribers[id]?.filters[subscriptionID] = nil
        refreshInterest()
    }

    /// Whether an event of `kind` about `nodeID` can reach any subscriber now; callers skip
    /// building and publishing it otherwise. A subscription made meanwhile sees the next one.
    public nonisolated func wants(_ kind: StreamEvent.Kind, nodeID: String) -> Bool {
        interest.withLock { $0.wants(kind, nodeID: nodeID) }
    }

    private func refreshInterest() {
        let updated = StreamInterest(subscribers.values.flatMap { $0.filters.values.map(\.subscription) })
        interest.withLock { $0 = updated }
    }

    /// Sends directly to one subscriber (answers to its own requests).
    public func send(_ id: Int, _ message: Message) {
        if subscribers[id]?.queue.push(message) == false { dropped += 1 }
    }

    public func publish(_ event: StreamEvent) {
        for subscriber in subscribers.values {
            guard let message = Self.merge(subscriber.filters.values.compactMap { $0.apply(to: event) }) else { continue }
            if !subscriber.queue.push(message) { dropped += 1 }
        }
    }

    /// One message per subscriber even when several of its subscriptions match: the
    /// union of what each let through (log entries by seq, metric points by name), so
    /// two subscriptions with different filters never hide each other's entries.
    static func merge(_ messages: [Message]) -> Message? {
        guard var first = messages.first else { return nil }
        guard messages.count > 1 else { return first }
        switch first {
        case .logEntries(var entries):
            var seen = Set(entries.entries.map(\.seq))
            for case .logEntries(let more) in messages.dropFirst() {
                for entry in more.entries where seen.insert(entry.seq).inserted { entries.entries.append(entry) }
            }
            entries.entries.sort { $0.seq < $1.seq }
            first = .logEntries(entries)
        case .metricPoints(var points):
            var seen = Set(points.points.map(\.name))
            for case .metricPoints(let more) in messages.dropFirst() {
                for point in more.points where seen.insert(point.name).inserted { points.points.append(point) }
            }
            first = .metricPoints(points)
        default:
            break
        }
        return first
    }

    public func publish(_ events: [StreamEvent]) {
        for event in events { publish(event) }
    }
}
