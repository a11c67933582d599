/// The roll-ups of one node for one time bucket, as the SQLite store keeps them: one
/// `rollup_buckets` row per (resolution, bucket, node) whose blob holds every metric's
/// aggregate, each metric named by its `rollup_names.id`.
///
/// Why packed: a fleet's roll-ups arrive as one row per node and metric every bucket
/// (10,000 nodes × 20 metrics = 200,000 rows every 10 s). Kept one row each under a key
/// that starts with the node, every flush rewrote a leaf page per node and metric all
/// over the table, so a flush held the single writer for 1–3 s once the table had grown,
/// and every log write waited behind it. Packed per node and keyed by time first, a
/// flush appends 10,000 rows at the table's end.
///
/// Layout: a version byte (1), then per metric 40 bytes, little-endian: the name id
/// (Int64), min, max, sum (Float64), count (Int64).
struct RollupPack: Hashable, Sendable {
    struct Entry: Hashable, Sendable {
        var nameID: Int64
        var min: Double
        var max: Double
        var sum: Double
        var count: Int64

        /// Two partial aggregates of the same metric and bucket, combined.
        func merged(with other: Entry) -> Entry {
            Entry(nameID: nameID, min: Swift.min(min, other.min), max: Swift.max(max, other.max), sum: sum + other.sum, count: count + other.count)
        }
    }

    static let version: UInt8 = 1
    static let entrySize = 40

    /// In the order they were first added; a name id appears once.
    private(set) var entries: [Entry] = []

    init() {}

    /// Adds an aggregate, merged into the entry of the same name id if there is one.
    mutating func add(_ entry: Entry) {
        if let index = entries.firstIndex(where: { $0.nameID == entry.nameID }) {
            entries[index] = entries[index].merged(with: entry)
        } else {
            entries.append(entry)
        }
    }

    func entry(nameID: Int64) -> Entry? {
        entries.first { $0.nameID == nameID }
    }

    var bytes: [UInt8] {
        var bytes: [UInt8] = [Self.version]
        bytes.reserveCapacity(1 + entries.count * Self.entrySize)
        for entry in entries {
            Self.append(UInt64(bitPattern: entry.nameID), to: &bytes)
            Self.append(entry.min.bitPattern, to: &bytes)
            Self.append(entry.max.bitPattern, to: &bytes)
            Self.append(entry.sum.bitPattern, to: &bytes)
            Self.append(UInt64(bitPattern: entry.count), to: &bytes)
        }
        return bytes
    }

    /// Reads a blob; anything but version 1 with whole 40-byte entries is `.corrupt`, so a
    /// damaged row is reported rather than read as numbers.
    init(bytes: [UInt8]) throws(StoreError) {
        guard let first = bytes.first, first == Self.version, (bytes.count - 1) % Self.entrySize == 0 else {
            throw StoreError(
                code: .corrupt,
                message: "a rollup_buckets row is not a packed roll-up (\(bytes.count) bytes, version \(bytes.first.map(String.init) ?? "none"))")
        }
        var offset = 1
        func next() -> UInt64 {
            var value: UInt64 = 0
            for shift in 0..<8 { value |= UInt64(bytes[offset + shift]) << (8 * UInt64(shift)) }
            offset += 8
            return value
        }
        entries.reserveCapacity((bytes.count - 1) / Self.entrySize)
        while offset < bytes.count {
            let nameID = Int64(bitPattern: next())
            let min = Double(bitPattern: next())
            let max = Double(bitPattern: next())
            let sum = Double(bitPattern: next())
            let count = Int64(bitPattern: next())
            entries.append(Entry(nameID: nameID, min: min, max: max, sum: sum, count: count))
        }
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(shift)))) }
    }
}
