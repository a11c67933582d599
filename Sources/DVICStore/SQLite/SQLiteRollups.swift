/// How the SQLite store keeps metric roll-ups (schema 3): one `rollup_buckets` row per
/// (resolution, bucket, node), its blob a `RollupPack`, keyed by time first so that a
/// flush of the newest buckets appends at the end of the table and its index; and
/// `rollup_names`, each node's metric names with the ids the packs use.
///
/// Name ids come from AUTOINCREMENT and are never reused: deleting a node deletes its
/// names only, and its packs, which no name reaches any more, go with retention. A node
/// id that comes back gets new ids, so it never sees the old history. Deleting the
/// packs themselves would scan the whole table, which has no index by node: at 10,000
/// nodes a day of 10 s buckets is 86 M rows, and the delete would hold the writer for
/// minutes.
enum SQLiteRollups {
    /// One pack's key.
    struct BucketKey: Hashable, Comparable {
        var resolution: Int
        var bucket: Int64
        var nodeID: String

        static func < (lhs: BucketKey, rhs: BucketKey) -> Bool {
            (lhs.resolution, lhs.bucket, lhs.nodeID) < (rhs.resolution, rhs.bucket, rhs.nodeID)
        }
    }

    /// The metric name ids the writer has seen, by node and name, so that a flush of
    /// 200,000 roll-ups makes no name lookups. A write's new ids are added by its
    /// `committed` hook (`SQLiteDatabase.write`), so a rolled-back id is never used, and a
    /// deleted node's entry goes in the delete's own write.
    typealias NameIDs = [String: [String: Int64]]

    /// Merges `rows` (already free of duplicate keys) into their packs. `known` is the
    /// cache's ids; the ids it lacked, read or given here, are added to `learned`.
    static func write(_ connection: SQLiteConnection, _ rows: [RollupRow], known: NameIDs, learned: inout NameIDs) throws(StoreError) {
        var packs: [BucketKey: RollupPack] = [:]
        for row in rows {
            let nameID: Int64
            if let id = known[row.nodeID]?[row.name] {
                nameID = id
            } else {
                nameID = try Self.nameID(connection, nodeID: row.nodeID, name: row.name, learned: &learned)
            }
            let key = BucketKey(resolution: row.resolution, bucket: row.bucket, nodeID: row.nodeID)
            packs[key, default: RollupPack()].add(.init(nameID: nameID, min: row.min, max: row.max, sum: row.sum, count: row.count))
        }
        // A bucket newer than every stored one of its resolution has no pack to merge
        // into: the usual flush then makes no lookups at all.
        var newest: [Int: Int64] = [:]
        for key in packs.keys.sorted() {
            if newest[key.resolution] == nil {
                let stored = try connection.firstRow("SELECT max(bucket) FROM rollup_buckets WHERE resolution = ?") { statement throws(StoreError) in
                    try statement.bind(key.resolution, at: 1)
                } row: { $0.optionalInt64(0) }
                newest[key.resolution] = (stored ?? nil) ?? .min
            }
            guard var pack = packs[key] else { continue }
            let bind = { (statement: SQLiteStatement) throws(StoreError) in
                try statement.bind(key.resolution, at: 1)
                try statement.bind(key.bucket, at: 2)
                try statement.bind(key.nodeID, at: 3)
            }
            if key.bucket <= newest[key.resolution] ?? .min,
                let stored = try connection.firstRow("SELECT id, data FROM rollup_buckets WHERE resolution = ? AND bucket = ? AND node_id = ?", bind, row: { ($0.int64(0), $0.blob(1)) })
            {
                var merged = try RollupPack(bytes: stored.1)
                for entry in pack.entries { merged.add(entry) }
                pack = merged
                try connection.run("UPDATE rollup_buckets SET data = ? WHERE id = ?") { statement throws(StoreError) in
                    try statement.bind(pack.bytes, at: 1)
                    try statement.bind(stored.0, at: 2)
                }
            } else {
                try connection.run("INSERT INTO rollup_buckets (resolution, bucket, node_id, data) VALUES (?, ?, ?, ?)") { statement throws(StoreError) in
                    try bind(statement)
                    try statement.bind(pack.bytes, at: 4)
                }
            }
        }
    }

    /// The id of a node's metric name, given one if it has none. The first miss of a node
    /// reads all its names at once.
    static func nameID(_ connection: SQLiteConnection, nodeID: String, name: String, learned: inout NameIDs) throws(StoreError) -> Int64 {
        if let id = learned[nodeID]?[name] { return id }
        if learned[nodeID] == nil {
            let stored = try connection.rows("SELECT name, id FROM rollup_names WHERE node_id = ?") { statement throws(StoreError) in
                try statement.bind(nodeID, at: 1)
            } row: { ($0.string(0), $0.int64(1)) }
            learned[nodeID] = Dictionary(stored, uniquingKeysWith: { first, _ in first })
            if let id = learned[nodeID]?[name] { return id }
        }
        let id = try connection.firstRow("INSERT INTO rollup_names (node_id, name) VALUES (?, ?) RETURNING id") { statement throws(StoreError) in
            try statement.bind(nodeID, at: 1)
            try statement.bind(name, at: 2)
        } row: { $0.int64(0) }
        guard let id else { throw StoreError(code: .backend, message: "rollup_names gave no id for \(name)") }
        learned[nodeID, default: [:]][name] = id
        return id
    }

    /// A node's aggregates of one metric at one resolution, `since <= bucket < until`,
    /// oldest first.
    static func read(_ connection: SQLiteConnection, nodeID: String, name: String, resolution: Int, since: Int64, until: Int64) throws(StoreError) -> [RollupRow] {
        let nameID = try connection.firstRow("SELECT id FROM rollup_names WHERE node_id = ? AND name = ?") { statement throws(StoreError) in
            try statement.bind(nodeID, at: 1)
            try statement.bind(name, at: 2)
        } row: { $0.int64(0) }
        guard let nameID else { return [] }
        // The table is keyed by time, not node: walk the distinct buckets of the range
        // (one index probe each) and probe the node's pack in each, rather than read every
        // node's packs of the range.
        let packs = try connection.rows(
            """
            WITH RECURSIVE buckets(bucket) AS (
                SELECT min(bucket) FROM rollup_buckets WHERE resolution = ?1 AND bucket >= ?2 AND bucket < ?3
                UNION ALL
                SELECT (SELECT min(bucket) FROM rollup_buckets WHERE resolution = ?1 AND bucket > buckets.bucket AND bucket < ?3)
                FROM buckets WHERE buckets.bucket IS NOT NULL
            )
            SELECT r.bucket, r.data FROM buckets JOIN rollup_buckets r
                ON r.resolution = ?1 AND r.bucket = buckets.bucket AND r.node_id = ?4
            ORDER BY r.bucket
            """,
            { statement throws(StoreError) in
                try statement.bind(resolution, at: 1)
                try statement.bind(since, at: 2)
                try statement.bind(until, at: 3)
                try statement.bind(nodeID, at: 4)
            }
        ) { statement throws(StoreError) in (statement.int64(0), try RollupPack(bytes: statement.blob(1))) }
        return packs.compactMap { bucket, pack in
            pack.entry(nameID: nameID).map {
                RollupRow(nodeID: nodeID, name: name, resolution: resolution, bucket: bucket, min: $0.min, max: $0.max, sum: $0.sum, count: $0.count)
            }
        }
    }

    /// Migration 3's data step: schema 1's `rollups` rows (one per node, metric and
    /// bucket) become packs, one bucket at a time so that a large table never sits in
    /// memory whole. Runs after the migration's SQL made the new tables and names.
    static func packSchema1Rows(_ connection: SQLiteConnection) throws(StoreError) {
        let buckets = try connection.rows("SELECT DISTINCT resolution, bucket FROM rollups ORDER BY resolution, bucket") { ($0.int(0), $0.int64(1)) }
        var learned: NameIDs = [:]
        for (resolution, bucket) in buckets {
            let rows = try connection.rows(
                "SELECT node_id, name, min, max, sum, count FROM rollups WHERE resolution = ? AND bucket = ?",
                { statement throws(StoreError) in
                    try statement.bind(resolution, at: 1)
                    try statement.bind(bucket, at: 2)
                }
            ) {
                RollupRow(nodeID: $0.string(0), name: $0.string(1), resolution: resolution, bucket: bucket, min: $0.double(2), max: $0.double(3), sum: $0.double(4), count: $0.int64(5))
            }
            try write(connection, rows, known: [:], learned: &learned)
        }
        try connection.execute("DROP TABLE rollups")
    }
}
