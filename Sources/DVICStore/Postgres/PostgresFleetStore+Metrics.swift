import PostgresNIO

extension PostgresFleetStore {
    public func writeRollups(_ rows: [RollupRow]) async throws(StoreError) {
        // Merged first (one statement may not upsert a key twice) and sorted (racing
        // transactions lock rows in one order).
        let rows = RollupRow.mergingDuplicates(rows).sorted {
            ($0.nodeID, $0.name, $0.resolution, $0.bucket) < ($1.nodeID, $1.name, $1.resolution, $1.bucket)
        }
        guard !rows.isEmpty else { return }
        try await self.transaction("writeRollups") { connection in
            // Soft state: the counterpart of SQLite's synchronous = NORMAL.
            try await connection.query("SET LOCAL synchronous_commit = off", logger: self.logger)
            var start = rows.startIndex
            while start < rows.endIndex {
                let chunk = rows[start..<min(start + Self.rowsPerStatement, rows.endIndex)]
                let nodeIDs = chunk.map(\.nodeID)
                let names = chunk.map(\.name)
                let resolutions = chunk.map(\.resolution)
                let buckets = chunk.map(\.bucket)
                let mins = chunk.map(\.min)
                let maxes = chunk.map(\.max)
                let sums = chunk.map(\.sum)
                let counts = chunk.map(\.count)
                try await connection.query(
                    """
                    INSERT INTO rollups (node_id, name, resolution, bucket, min, max, sum, count)
                    SELECT * FROM unnest(\(nodeIDs)::text[], \(names)::text[], \(resolutions)::int8[], \(buckets)::int8[],
                        \(mins)::float8[], \(maxes)::float8[], \(sums)::float8[], \(counts)::int8[])
                    ON CONFLICT (node_id, name, resolution, bucket) DO UPDATE SET
                        min = least(rollups.min, EXCLUDED.min), max = greatest(rollups.max, EXCLUDED.max),
                        sum = rollups.sum + EXCLUDED.sum, count = rollups.count + EXCLUDED.count
                    """,
                    logger: self.logger
                )
                start = chunk.endIndex
            }
        }
    }

    public func rollups(nodeID: String, name: String, resolution: Int, since: Int64, until: Int64) async throws(StoreError) -> [RollupRow] {
        try await self.perform("rollups") { client in
            let rows = try await client.query(
                """
                SELECT node_id, name, resolution, bucket, min, max, sum, count FROM rollups
                WHERE node_id = \(nodeID) AND name = \(name) AND resolution = \(resolution)
                    AND bucket >= \(since) AND bucket < \(until)
                ORDER BY bucket
                """,
                logger: self.logger
            )
            var result: [RollupRow] = []
            for try await (nodeID, name, resolution, bucket, min, max, sum, count) in rows.decode(
                (String, String, Int, Int64, Double, Double, Double, Int64).self
            ) {
                result.append(
                    RollupRow(nodeID: nodeID, name: name, resolution: resolution, bucket: bucket, min: min, max: max, sum: sum, count: count)
                )
            }
            return result
        }
    }

    public func metricNames(nodeID: String) async throws(StoreError) -> [String] {
        try await self.perform("metricNames") { client in
            // Skip scan over the primary key, as in SQLite; COLLATE "C" for the same order.
            let rows = try await client.query(
                """
                WITH RECURSIVE names(name) AS (
                    SELECT min(name COLLATE "C") FROM rollups WHERE node_id = \(nodeID)
                    UNION ALL
                    SELECT (SELECT min(r.name COLLATE "C") FROM rollups r WHERE r.node_id = \(nodeID) AND r.name COLLATE "C" > names.name)
                    FROM names WHERE names.name IS NOT NULL
                )
                SELECT name FROM names WHERE name IS NOT NULL
                """,
                logger: self.logger
            )
            var names: [String] = []
            for try await name in rows.decode(String.self) {
                names.append(name)
            }
            return names
        }
    }

    public func pruneRollups(resolution: Int, olderThan: Int64) async throws(StoreError) -> Int {
        try await self.transaction("pruneRollups") { connection in
            try await connection.query("SET LOCAL synchronous_commit = off", logger: self.logger)
            return try await Self.count(
                connection.query(
                    """
                    WITH gone AS (DELETE FROM rollups WHERE resolution = \(resolution) AND bucket < \(olderThan) RETURNING 1)
                    SELECT count(*) FROM gone
                    """,
                    logger: self.logger
                )
            )
        }
    }
}
