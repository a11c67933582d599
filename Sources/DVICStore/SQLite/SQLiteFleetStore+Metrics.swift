import Synchronization

extension SQLiteFleetStore {
    public func writeRollups(_ rows: [RollupRow]) async throws(StoreError) {
        let rows = RollupRow.mergingDuplicates(rows)
        guard !rows.isEmpty else { return }
        // Soft state recomputed from the next samples: NORMAL durability.
        try await self.database.write(.normal, lane: .bulk, { connection throws(StoreError) in
            let known = self.rollupNames.withLock { $0 }
            var learned: SQLiteRollups.NameIDs = [:]
            try SQLiteRollups.write(connection, rows, known: known, learned: &learned)
            return learned
        }, committed: { learned in
            self.rollupNames.withLock { cache in
                for (node, names) in learned { cache[node, default: [:]].merge(names) { _, new in new } }
            }
        })
    }

    public func rollups(nodeID: String, name: String, resolution: Int, since: Int64, until: Int64) async throws(StoreError) -> [RollupRow] {
        try await self.database.read { connection throws(StoreError) in
            try SQLiteRollups.read(connection, nodeID: nodeID, name: name, resolution: resolution, since: since, until: until)
        }
    }

    public func metricNames(nodeID: String) async throws(StoreError) -> [String] {
        try await self.database.read { connection throws(StoreError) in
            try connection.rows(
                "SELECT name FROM rollup_names WHERE node_id = ? ORDER BY name",
                { statement throws(StoreError) in try statement.bind(nodeID, at: 1) }
            ) { $0.string(0) }
        }
    }

    public func pruneRollups(resolution: Int, olderThan: Int64) async throws(StoreError) -> Int {
        try await self.database.write(.normal, lane: .bulk) { connection throws(StoreError) in
            let bind = { (statement: SQLiteStatement) throws(StoreError) in
                try statement.bind(resolution, at: 1)
                try statement.bind(olderThan, at: 2)
            }
            // Counted in roll-ups (node, metric, bucket), as the other store counts them;
            // the entries follow from a pack's length without reading it.
            let count = try connection.firstRow(
                "SELECT coalesce(sum((length(data) - 1) / \(RollupPack.entrySize)), 0) FROM rollup_buckets WHERE resolution = ? AND bucket < ?", bind
            ) { $0.int(0) } ?? 0
            try connection.run("DELETE FROM rollup_buckets WHERE resolution = ? AND bucket < ?", bind)
            return count
        }
    }
}
