/// Latencies in whole milliseconds, bounded in memory whatever the count (a fleet run
/// records tens of millions), mergeable across worker processes.
///
/// Exact up to 1 s, then buckets of 10 ms up to 120 s; beyond that one overflow
/// bucket (the maximum is kept exactly).
public struct LatencyHistogram: Sendable, Codable, Hashable {
    private static let fineLimit = 1_000
    private static let coarseStep = 10
    private static let coarseLimit = 120_000
    private static let bucketCount = fineLimit + (coarseLimit - fineLimit) / coarseStep + 1

    private var buckets: [Int]
    public private(set) var count = 0
    public private(set) var maxMs = 0
    public private(set) var sumMs = 0

    public init() { buckets = Array(repeating: 0, count: Self.bucketCount) }

    public mutating func record(ms value: Int) {
        let ms = max(0, value)
        buckets[Self.bucket(ms)] += 1
        count += 1
        sumMs += ms
        maxMs = max(maxMs, ms)
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for index in buckets.indices { buckets[index] += other.buckets[index] }
        count += other.count
        sumMs += other.sumMs
        maxMs = max(maxMs, other.maxMs)
    }

    /// The smallest bucket bound below which `fraction` of the values lie (upper bound
    /// of the bucket, so a percentile is never reported better than it was).
    public func percentile(_ fraction: Double) -> Int? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((Double(count) * fraction).rounded(.up)))
        var seen = 0
        for (index, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return min(Self.upperBound(index), maxMs) }
        }
        return maxMs
    }

    public var meanMs: Double? { count > 0 ? Double(sumMs) / Double(count) : nil }

    private static func bucket(_ ms: Int) -> Int {
        if ms < fineLimit { return ms }
        if ms < coarseLimit { return fineLimit + (ms - fineLimit) / coarseStep }
        return bucketCount - 1
    }

    private static func upperBound(_ index: Int) -> Int {
        if index < fineLimit { return index }
        if index == bucketCount - 1 { return Int.max }
        return fineLimit + (index - fineLimit + 1) * coarseStep - 1
    }
}
