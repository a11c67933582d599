import Synchronization

/// The latencies a run collects from many tasks at once: ingest lag (nodes' acks),
/// handshakes, and the dashboard stream. One lock each, held for one array update.
public final class LoadMeasurements: Sendable {
    private let lag = Mutex(LatencyHistogram())
    private let handshake = Mutex(LatencyHistogram())
    private let stream = Mutex(LatencyHistogram())

    public init() {}

    public func ingestLag(ms: Int) { lag.withLock { $0.record(ms: ms) } }
    public func handshake(ms: Int) { handshake.withLock { $0.record(ms: ms) } }
    public func streamLatency(ms: Int) { stream.withLock { $0.record(ms: ms) } }

    public var ingestLag: LatencyHistogram { lag.withLock { $0 } }
    public var handshakes: LatencyHistogram { handshake.withLock { $0 } }
    public var streamLatency: LatencyHistogram { stream.withLock { $0 } }
}
