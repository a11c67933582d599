public import DVICProtocol

/// Fans live events out to dashboard and CLI connections by their subscriptions.
///
/// Each subscriber reads an `AsyncStream` that keeps only its newest entries: a slow
/// viewer loses its oldest live updates, never the server's memory, and never slows
/// anyone else. (History is always there through the REST API.)
public actor StreamHub {
    private struct Subscriber {
        var role: Role
        var filters: [UInt32: StreamFilter] = [:]
        let continuation: AsyncStream<Message>.Continuation
    }

    private var subscribers: [Int: Subscriber] = [:]
    private var nextID = 0
    /// Live updates queued per subscriber before the oldest are dropped.
    public let bufferLimit: Int
    /// Drops counted across subscribers, for /metrics.
    public private(set) var dropped = 0

    public init(bufferLimit: Int = 4096) {
        self.bufferLimit = bufferLimit
    }

    public var subscriberCount: Int { subscribers.count }

    /// Registers a connection; its events come out of the returned stream until `remove`.
    public func add(role: Role) -> (id: Int, events: AsyncStream<Message>) {
        nextID += 1
        let (stream, continuation) = AsyncStream<Message>.makeStream(bufferingPolicy: .bufferingNewest(bufferLimit))
        subscribers[nextID] = Subscriber(role: role, continuation: continuation)
        return (nextID, stream)
    }

    public func remove(_ id: Int) {
        subscribers.removeValue(forKey: id)?.continuation.finish()
    }

    public func subscribe(_ id: Int, _ subscription: Subscribe) {
        subscribers[id]?.filters[subscription.subscriptionID] = StreamFilter(subscription)
    }

    public func unsubscribe(_ id: Int, subscriptionID: UInt32) {
        subscribers[id]?.filters[subscriptionID] = nil
    }

    /// Sends directly to one subscriber (answers to its own requests).
    public func send(_ id: Int, _ message: Message) {
        if case .dropped = subscribers[id]?.continuation.yield(message) { dropped += 1 }
    }

    public func publish(_ event: StreamEvent) {
        for subscriber in subscribers.values {
            for filter in subscriber.filters.values {
                guard let message = filter.apply(to: event) else { continue }
                if case .dropped = subscriber.continuation.yield(message) { dropped += 1 }
                break
            }
        }
    }

    public func publish(_ events: [StreamEvent]) {
        for event in events { publish(event) }
    }
}
