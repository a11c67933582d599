extension SQLiteFleetStore {
    private static let upsertRollupsSQL: [String] = (0...SQLiteFleetStore.rowsPerStatement).map { count in
        "INSERT INTO rollups (node_id, name, resolution, bucket, min, max, sum, count) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?)", count: count).joined(separator: ", ")
            + """
             ON CONFLICT (node_id, name, resolution, bucket) DO UPDATE SET
                min = min(rollups.min, excluded.min), max = max(rollups.max, excluded.max),
                sum = rollups.sum + excluded.sum, count = rollups.count + excluded.count
            """
    }

    public func writeRollups(_ rows: [RollupRow]) async throws(StoreError) {
        let rows = RollupRow.mergingDuplicates(rows)
        guard !rows.isEmpty else { return }
        // Soft state recomputed from the next samples: NORMAL durability.
        try await self.database.write(.normal) { connection throws(StoreError) in
            var start = rows.startIndex
            while start < rows.endIndex {
                let count = min(Self.rowsPerStatement, rows.endIndex - start)
                let statement = try connection.cached(Self.upsertRollupsSQL[count])
                defer { statement.reset() }
                var index: Int32 = 1
                for row in rows[start..<(start + count)] {
                    try statement.bind(row.nodeID, at: index)
                    try statement.bind(row.name, at: index + 1)
                    try statement.bind(row.resolution, at: index + 2)
                    try statement.bind(row.bucket, at: index + 3)
                    try statement.bind(row.min, at: index + 4)
                    try statement.bind(row.max, at: index + 5)
                    try statement.bind(row.sum, at: index + 6)
                    try statement.bind(row.count, at: index + 7)
                    index += 8
                }
                try statement.run()
                start += count
            }
        }
    }

    public func rollups(nodeID: String, name: String, resolution: Int, since: Int64, until: Int64) async throws(StoreError) -> [RollupRow] {
        try await self.database.read { connection throws(StoreError) in
            try connection.rows(
                """
                SELECT node_id, name, resolution, bucket, min, max, sum, count FROM rollups
                WHERE node_id = ? AND name = ? AND resolution = ? AND bucket >= ? AND bucket < ?
                ORDER BY bucket
                """,
                { statement throws(StoreError) in
                    try statement.bind(nodeID, at: 1)
                    try statement.bind(name, at: 2)
                    try statement.bind(resolution, at: 3)
                    try statement.bind(since, at: 4)
                    try statement.bind(until, at: 5)
                }
            ) { statement in
                RollupRow(
                    nodeID: statement.string(0),
                    name: statement.string(1),
                    resolution: statement.int(2),
                    bucket: statement.int64(3),
                    min: statement.double(4),
                    max: statement.double(5),
                    sum: statement.double(6),
                    count: statement.int64(7)
                )
            }
        }
    }

    public func metricNames(nodeID: String) async throws(StoreError) -> [String] {
        try await self.database.read { connection throws(StoreError) in
            // A skip scan over the primary key: one index probe per distinct name
            // rather than a walk over every bucket of the node.
            try connection.rows(
                """
                WITH RECURSIVE names(name) AS (
                    SELECT min(name) FROM rollups WHERE node_id = ?1
                    UNION ALL
                    SELECT (SELECT min(name) FROM rollups WHERE node_id = ?1 AND name > names.name)
                    FROM names WHERE names.name IS NOT NULL
                )
                SELECT name FROM names WHERE name IS NOT NULL
                """,
                { statement throws(StoreError) in try statement.bind(nodeID, at: 1) }
            ) { $0.string(0) }
        }
    }

    public func pruneRollups(resolution: Int, olderThan: Int64) async throws(StoreError) -> Int {
        try await self.database.write(.normal) { connection throws(StoreError) in
            try connection.run("DELETE FROM rollups WHERE resolution = ? AND bucket < ?") { statement throws(StoreError) in
                try statement.bind(resolution, at: 1)
                try statement.bind(olderThan, at: 2)
            }
        }
    }
}
