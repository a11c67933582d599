public import DVICProtocol
public import DVICStore
public import Logging
public import ServiceLifecycle

/// Metrics of every node: a live window in memory at full resolution, and roll-ups
/// (10 s and 5 min by default, min/avg/max) persisted for history.
public actor MetricStore: Service {
    public struct Retention: Sendable {
        /// Seconds of roll-ups kept per resolution.
        public var seconds: [Int: Int64]
        public init(seconds: [Int: Int64] = [10: 2 * 86_400, 300: 90 * 86_400]) {
            self.seconds = seconds
        }
    }

    private var core: MetricStoreCore
    private let store: any FleetStore
    private let hub: StreamHub
    private let clock: FleetClock
    private let logger: Logger
    private let retention: Retention
    private var finished: [MetricStoreCore.Rollup] = []
    public private(set) var samplesRecorded = 0
    /// Agent samples handed over without a hop each (`submit`).
    private let inbox = ActorInbox<Sample>(gather: .ingestGather)

    private struct Sample: Sendable {
        var nodeID: String
        var nodeTags: [String]
        var timestamp: Int64
        var values: [(name: String, value: Double)]
    }

    public init(store: any FleetStore, hub: StreamHub, clock: FleetClock = .system, windowSamples: Int = 300, retention: Retention = .init(), logger: Logger) {
        self.core = MetricStoreCore(capacity: windowSamples)
        self.store = store
        self.hub = hub
        self.clock = clock
        self.retention = retention
        self.logger = logger
    }

    /// Records one sample of named values and publishes it live, in order after every
    /// sample submitted before it.
    public func record(nodeID: String, nodeTags: [String], timestamp: Int64, values: [(name: String, value: Double)]) async {
        submit(nodeID: nodeID, nodeTags: nodeTags, timestamp: timestamp, values: values)
        await drainInbox()
    }

    /// Records a sample from an agent connection without waiting for the store: samples
    /// gather and are recorded in order, many per hop (`ActorInbox`).
    public nonisolated func submit(nodeID: String, nodeTags: [String], timestamp: Int64, values: [(name: String, value: Double)]) {
        inbox.push(Sample(nodeID: nodeID, nodeTags: nodeTags, timestamp: timestamp, values: values)) { await self.drainInbox() }
    }

    /// Records everything submitted so far; readers call it first, so a sample submitted
    /// before a query is in its answer.
    private func drainInbox() async {
        while true {
            let samples = inbox.take()
            if samples.isEmpty { return }
            var events: [StreamEvent] = []
            // No suspension inside this loop: samples of a later drain never overtake these.
            for sample in samples {
                finished += core.record(nodeID: sample.nodeID, timestamp: sample.timestamp, values: sample.values)
                samplesRecorded += 1
                guard hub.wants(.metrics, nodeID: sample.nodeID) else { continue }
                let points = sample.values.filter { $0.value.isFinite }.map { MetricPoint(name: $0.name, timestamp: sample.timestamp, value: $0.value) }
                guard !points.isEmpty else { continue }
                events.append(StreamEvent(kind: .metrics, nodeID: sample.nodeID, nodeTags: sample.nodeTags, message: .metricPoints(MetricPoints(nodeID: sample.nodeID, points: points))))
            }
            if !events.isEmpty { await hub.publish(events) }
        }
    }

    public func latest(nodeID: String) async -> (time: Int64, values: [String: Double])? {
        await drainInbox()
        return core.latest(nodeID: nodeID)
    }

    public func names(nodeID: String) async -> [String] {
        await drainInbox()
        let stored = (try? await store.metricNames(nodeID: nodeID)) ?? []
        return Array(Set(stored).union(core.names(nodeID: nodeID))).sorted()
    }

    /// Points of one metric between `since` and `until` (ms), averaged into `step` ms
    /// buckets: from the live window when it covers the range, else from roll-ups.
    /// Also returns the step the points really have (roll-ups are never finer than
    /// their resolution).
    public func query(nodeID: String, name: String, since: Int64, until: Int64, step: Int64) async throws(StoreError) -> (points: [(Int64, Double)], step: Int64) {
        await drainInbox()
        if let start = core.windowStart(nodeID: nodeID), since >= start, step < 10_000 {
            return (MetricStoreCore.downsample(core.window(nodeID: nodeID, name: name, since: since, until: until), step: step), step)
        }
        // The finest roll-up that keeps a long range to a few thousand buckets.
        let resolution = until - since > 2 * 86_400_000 || step >= 300_000 ? 300 : 10
        await flush()
        var points = try await store.rollups(nodeID: nodeID, name: name, resolution: resolution, since: since, until: until)
            .map { ($0.bucket, $0.count == 0 ? 0 : $0.sum / Double($0.count)) }
        // The bucket still filling is not stored yet; the window has it.
        let lastStored = points.last?.0 ?? since
        points += core.window(nodeID: nodeID, name: name, since: lastStored + Int64(resolution) * 1000, until: until)
        let effective = max(step, Int64(resolution) * 1000)
        return (MetricStoreCore.downsample(points, step: effective), effective)
    }

    public func forget(nodeID: String) {
        core.remove(nodeID: nodeID)
    }

    /// Persists finished roll-ups every few seconds and applies retention hourly.
    public func run() async throws {
        var ticks = 0
        while await GracefulTimer.tick(.seconds(5)) {
            await drainInbox()
            await flush()
            ticks += 1
            if ticks % 720 == 1 { await prune() }
        }
        await drainInbox()
        finished += core.partialRollups()
        await flush()
    }

    public func flush() async {
        guard !finished.isEmpty else { return }
        let rows = finished.map {
            RollupRow(nodeID: $0.nodeID, name: $0.name, resolution: $0.resolution, bucket: $0.bucket, min: $0.min, max: $0.max, sum: $0.sum, count: $0.count)
        }
        finished = []
        do {
            try await store.writeRollups(rows)
        } catch {
            logger.error("could not persist metric roll-ups; will retry", metadata: ["error": "\(error)", "rows": "\(rows.count)"])
            finished = rows.map { .init(nodeID: $0.nodeID, name: $0.name, resolution: $0.resolution, bucket: $0.bucket, min: $0.min, max: $0.max, sum: $0.sum, count: $0.count) } + finished
        }
    }

    private func prune() async {
        let now = clock.now()
        for (resolution, seconds) in retention.seconds {
            _ = try? await store.pruneRollups(resolution: resolution, olderThan: now - seconds * 1000)
        }
    }
}
