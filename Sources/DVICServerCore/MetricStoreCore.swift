/// The metric store's logic with no I/O: a recent window per node at full resolution,
/// kept compact, and roll-up buckets that are handed out for persisting once finished.
///
/// Memory: a node's samples share one ring of timestamps and each metric keeps a ring
/// of `Float` aligned with it, so a point costs 4 bytes plus its share of 8 — about
/// 26 KB per node for 20 metrics over the default 300 samples.
public struct MetricStoreCore: Sendable {
    /// A finished (or, on shutdown, partial) roll-up bucket.
    public struct Rollup: Sendable, Hashable {
        public var nodeID: String
        public var name: String
        /// Bucket width in seconds.
        public var resolution: Int
        /// Bucket start, ms since the epoch.
        public var bucket: Int64
        public var min: Double
        public var max: Double
        public var sum: Double
        public var count: Int64

        public var average: Double { count == 0 ? 0 : sum / Double(count) }
    }

    struct Accumulator: Sendable {
        var bucket: Int64
        var min: Double
        var max: Double
        var sum: Double
        var count: Int64
    }

    /// One node's window. Metrics are numbered on first sight, so that a sample costs one
    /// name lookup per metric; everything else is indexed by that number.
    struct NodeWindow: Sendable {
        var times: [Int64]
        var slots: [String: Int] = [:]
        var names: [String] = []
        /// The slot of each position of the previous sample. An agent sends its metrics in
        /// the same order every time, as the same string objects, so checking the guess is
        /// a pointer comparison and a sample usually costs no hashing at all (20 string
        /// hashes per sample were a visible share of the server at 10,000 nodes).
        var order: [Int] = []
        /// A ring of `capacity` values per metric, aligned with `times`.
        var series: [[Float]] = []
        var latest: [Double] = []
        /// `resolutions.count` buckets per metric, metric after metric.
        var accumulators: [Accumulator?] = []
        /// Index of the newest sample; -1 before the first.
        var head = -1
        var count = 0
        var latestTime: Int64 = 0

        init(capacity: Int) {
            times = Array(repeating: 0, count: capacity)
        }
    }

    public let capacity: Int
    /// Roll-up widths in seconds, finest first.
    public let resolutions: [Int]
    private var windows: [String: NodeWindow] = [:]

    public init(capacity: Int = 300, resolutions: [Int] = [10, 300]) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.resolutions = resolutions
    }

    /// Adds one sample of a node; returns the roll-up buckets it finished.
    public mutating func record(nodeID: String, timestamp: Int64, values: [(name: String, value: Double)]) -> [Rollup] {
        var window = windows[nodeID] ?? NodeWindow(capacity: capacity)
        windows[nodeID] = nil  // keep the window uniquely referenced while mutating it
        defer { windows[nodeID] = window }
        var finished: [Rollup] = []
        window.head = (window.head + 1) % capacity
        window.count = min(window.count + 1, capacity)
        window.times[window.head] = timestamp
        // Every series gets a gap at the new head; the values of this sample fill theirs.
        let head = window.head
        for slot in window.series.indices { window.series[slot][head] = .nan }
        window.latestTime = max(window.latestTime, timestamp)
        let resolutionCount = resolutions.count
        if window.order.count < values.count {
            window.order += repeatElement(-1, count: values.count - window.order.count)
        }
        for (position, (name, value)) in values.enumerated() where value.isFinite {
            let slot: Int
            let guess = window.order[position]
            if guess >= 0, window.names[guess] == name {
                slot = guess
            } else if let known = window.slots[name] {
                slot = known
            } else {
                slot = window.names.count
                window.slots[name] = slot
                window.names.append(name)
                window.series.append(Array(repeating: .nan, count: capacity))
                window.latest.append(.nan)
                window.accumulators.append(contentsOf: repeatElement(nil, count: resolutionCount))
            }
            window.order[position] = slot
            window.series[slot][head] = Float(value)
            window.latest[slot] = value
            for (index, resolution) in resolutions.enumerated() {
                let width = Int64(resolution) * 1000
                let bucket = timestamp - ((timestamp % width) + width) % width
                if let done = Self.accumulate(&window.accumulators[slot * resolutionCount + index], bucket: bucket, value: value) {
                    finished.append(Rollup(nodeID: nodeID, name: name, resolution: resolution, bucket: done.bucket, min: done.min, max: done.max, sum: done.sum, count: done.count))
                }
            }
        }
        return finished
    }

    /// Adds `value` to the bucket being filled; returns the previous bucket when `value`
    /// starts a new one.
    private static func accumulate(_ slot: inout Accumulator?, bucket: Int64, value: Double) -> Accumulator? {
        if var current = slot, current.bucket == bucket {
            current.min = Swift.min(current.min, value)
            current.max = Swift.max(current.max, value)
            current.sum += value
            current.count += 1
            slot = current
            return nil
        }
        let done = slot
        slot = Accumulator(bucket: bucket, min: value, max: value, sum: value, count: 1)
        return done
    }

    /// Points of one metric still in the window, oldest first.
    public func window(nodeID: String, name: String, since: Int64, until: Int64) -> [(Int64, Double)] {
        guard let window = windows[nodeID], let slot = window.slots[name], window.count > 0 else { return [] }
        let series = window.series[slot]
        var points: [(Int64, Double)] = []
        points.reserveCapacity(window.count)
        for offset in stride(from: window.count - 1, through: 0, by: -1) {
            let index = (window.head - offset + capacity) % capacity
            let time = window.times[index]
            let value = series[index]
            if time >= since && time <= until && !value.isNaN {
                points.append((time, Double(value)))
            }
        }
        return points
    }

    /// The oldest time the window still holds for a node.
    public func windowStart(nodeID: String) -> Int64? {
        guard let window = windows[nodeID], window.count > 0 else { return nil }
        return window.times[(window.head - window.count + 1 + capacity) % capacity]
    }

    public func latest(nodeID: String) -> (time: Int64, values: [String: Double])? {
        guard let window = windows[nodeID] else { return nil }
        var values: [String: Double] = [:]
        for (slot, name) in window.names.enumerated() where !window.latest[slot].isNaN { values[name] = window.latest[slot] }
        return (window.latestTime, values)
    }

    public func names(nodeID: String) -> [String] {
        windows[nodeID].map { $0.names.sorted() } ?? []
    }

    public var nodeIDs: [String] { Array(windows.keys) }

    /// Buckets still filling, so that a shutdown loses none (the store merges them
    /// with the rest of the bucket written after a restart).
    public func partialRollups() -> [Rollup] {
        var rollups: [Rollup] = []
        for (nodeID, window) in windows {
            for (slot, name) in window.names.enumerated() {
                for index in resolutions.indices {
                    guard let acc = window.accumulators[slot * resolutions.count + index] else { continue }
                    rollups.append(Rollup(nodeID: nodeID, name: name, resolution: resolutions[index], bucket: acc.bucket, min: acc.min, max: acc.max, sum: acc.sum, count: acc.count))
                }
            }
        }
        return rollups
    }

    public mutating func remove(nodeID: String) {
        windows[nodeID] = nil
    }

    /// Averages points into buckets of `step` ms (keeps them as they are for step ≤ 0).
    public static func downsample(_ points: [(Int64, Double)], step: Int64) -> [(Int64, Double)] {
        guard step > 0 else { return points }
        var result: [(Int64, Double)] = []
        var bucket: Int64 = .min
        var sum = 0.0
        var count = 0.0
        for (time, value) in points {
            let start = time - ((time % step) + step) % step
            if start != bucket {
                if count > 0 { result.append((bucket, sum / count)) }
                bucket = start
                sum = 0
                count = 0
            }
            sum += value
            count += 1
        }
        if count > 0 { result.append((bucket, sum / count)) }
        return result
    }
}
