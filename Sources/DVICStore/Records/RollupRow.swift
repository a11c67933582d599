/// One metric's aggregate over one time bucket.
public struct RollupRow: Hashable, Sendable {
    public var nodeID: String
    public var name: String
    /// Bucket width in seconds (10 or 300 today; any positive value is stored).
    public var resolution: Int
    /// Bucket start, ms since the epoch.
    public var bucket: Int64
    public var min: Double
    public var max: Double
    public var sum: Double
    public var count: Int64

    public init(nodeID: String, name: String, resolution: Int, bucket: Int64, min: Double, max: Double, sum: Double, count: Int64) {
        self.nodeID = nodeID
        self.name = name
        self.resolution = resolution
        self.bucket = bucket
        self.min = min
        self.max = max
        self.sum = sum
        self.count = count
    }

    /// Two partial aggregates of the same bucket, combined.
    func merged(with other: RollupRow) -> RollupRow {
        var result = self
        result.min = Swift.min(self.min, other.min)
        result.max = Swift.max(self.max, other.max)
        result.sum = self.sum + other.sum
        result.count = self.count + other.count
        return result
    }

    struct Key: Hashable {
        var nodeID: String
        var name: String
        var resolution: Int
        var bucket: Int64
    }

    var key: Key {
        Key(nodeID: self.nodeID, name: self.name, resolution: self.resolution, bucket: self.bucket)
    }

    /// Folds rows of the same bucket together, keeping first-seen order, so that one
    /// statement never upserts the same key twice (PostgreSQL refuses that).
    static func mergingDuplicates(_ rows: [RollupRow]) -> [RollupRow] {
        var index: [Key: Int] = [:]
        var merged: [RollupRow] = []
        merged.reserveCapacity(rows.count)
        for row in rows {
            if let at = index[row.key] {
                merged[at] = merged[at].merged(with: row)
            } else {
                index[row.key] = merged.count
                merged.append(row)
            }
        }
        return merged
    }
}
