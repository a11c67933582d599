public import DVICProtocol

/// The metric samples not yet handed to a connection, in a bounded ring.
///
/// Metrics are not spooled to disk: after a short outage the last `capacity` samples (five
/// minutes at the default interval) are replayed; older ones are dropped, since a chart misses
/// little from a thinned past and the disk spool is kept for logs, which must not be lost.
public struct MetricsRing: Sendable {
    public let capacity: Int
    private var samples: [MetricSample] = []
    private var head = 0
    public private(set) var droppedCount = 0

    public init(capacity: Int = 300) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { samples.count }
    public var isEmpty: Bool { samples.isEmpty }

    public mutating func append(_ sample: MetricSample) {
        if samples.count < capacity {
            samples.append(sample)
        } else {
            samples[head] = sample
            head = (head + 1) % capacity
            droppedCount += 1
        }
    }

    /// Every sample held, oldest first; the ring is empty afterwards.
    public mutating func drain() -> [MetricSample] {
        let ordered = Array(samples[head...] + samples[..<head])
        samples.removeAll(keepingCapacity: true)
        head = 0
        return ordered
    }

    public mutating func removeAll() {
        samples.removeAll()
        head = 0
    }
}
