extension SQLiteFleetStore {
    /// `INSERT INTO logs … VALUES (…),(…)` for 1…`rowsPerStatement` rows, built once;
    /// each text is also the key of its cached prepared statement.
    private static let insertLogsSQL: [String] = (0...SQLiteFleetStore.rowsPerStatement).map { count in
        "INSERT INTO logs (node_id, stream_key, seq, ts, level, text) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: count).joined(separator: ", ")
            + " ON CONFLICT (node_id, stream_key, seq) DO NOTHING"
    }

    /// Rows deleted per retention transaction, so pruning a large backlog never holds
    /// the writer for long: ingest calls queue between the chunks.
    static let pruneChunk = 20_000

    public func appendLogs(_ rows: [LogRow]) async throws(StoreError) -> LogAppendResult {
        guard !rows.isEmpty else {
            return LogAppendResult(inserted: 0, duplicates: 0, highWaterMarks: [:])
        }
        // Per-stream maxima of this call, computed before the hop to the writer.
        var batchHigh: [LogStreamID: Int64] = [:]
        for row in rows {
            let stream = LogStreamID(nodeID: row.nodeID, streamKey: row.streamKey)
            if let high = batchHigh[stream], high >= row.seq { continue }
            batchHigh[stream] = row.seq
        }
        let streams = batchHigh
        return try await self.database.write { connection throws(StoreError) in
            var inserted = 0
            var start = rows.startIndex
            while start < rows.endIndex {
                let count = min(Self.rowsPerStatement, rows.endIndex - start)
                let statement = try connection.cached(Self.insertLogsSQL[count])
                defer { statement.reset() }
                var index: Int32 = 1
                for row in rows[start..<(start + count)] {
                    try statement.bind(row.nodeID, at: index)
                    try statement.bind(row.streamKey, at: index + 1)
                    try statement.bind(row.seq, at: index + 2)
                    try statement.bind(row.timestamp, at: index + 3)
                    try statement.bind(row.level, at: index + 4)
                    try statement.bind(LogRow.storableText(row.text), at: index + 5)
                    index += 6
                }
                try statement.run()
                inserted += connection.changes
                start += count
            }
            var marks: [LogStreamID: Int64] = [:]
            marks.reserveCapacity(streams.count)
            for (stream, high) in streams {
                let mark = try connection.firstRow(
                    """
                    INSERT INTO log_marks (node_id, stream_key, high_seq) VALUES (?, ?, ?)
                    ON CONFLICT (node_id, stream_key) DO UPDATE SET high_seq = max(high_seq, excluded.high_seq)
                    RETURNING high_seq
                    """,
                    { statement throws(StoreError) in
                        try statement.bind(stream.nodeID, at: 1)
                        try statement.bind(stream.streamKey, at: 2)
                        try statement.bind(high, at: 3)
                    }
                ) { $0.int64(0) }
                marks[stream] = mark ?? high
            }
            return LogAppendResult(inserted: inserted, duplicates: rows.count - inserted, highWaterMarks: marks)
        }
    }

    public func upsertLogStream(_ stream: LogStreamRecord) async throws(StoreError) {
        let metadata = JSONColumn.encode(stream.metadata)
        try await self.database.write { connection throws(StoreError) in
            try connection.run(
                """
                INSERT INTO log_streams (node_id, key, source, name, path, metadata, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (node_id, key) DO UPDATE SET source = excluded.source, name = excluded.name,
                    path = excluded.path, metadata = excluded.metadata, opened_at = excluded.opened_at
                """
            ) { statement throws(StoreError) in
                try statement.bind(stream.nodeID, at: 1)
                try statement.bind(stream.key, at: 2)
                try statement.bind(stream.source, at: 3)
                try statement.bind(stream.name, at: 4)
                try statement.bind(stream.path, at: 5)
                try statement.bind(metadata, at: 6)
                try statement.bind(stream.openedAt, at: 7)
            }
        }
    }

    public func logStreams(nodeID: String) async throws(StoreError) -> [LogStreamRecord] {
        try await self.database.read { connection throws(StoreError) in
            try connection.rows(
                "SELECT node_id, key, source, name, path, metadata, opened_at FROM log_streams WHERE node_id = ? ORDER BY key",
                { statement throws(StoreError) in try statement.bind(nodeID, at: 1) }
            ) { statement throws(StoreError) in
                LogStreamRecord(
                    nodeID: statement.string(0),
                    key: statement.string(1),
                    source: statement.int(2),
                    name: statement.string(3),
                    path: statement.string(4),
                    metadata: try JSONColumn.dictionary(statement.string(5), column: "log_streams.metadata"),
                    openedAt: statement.int64(6)
                )
            }
        }
    }

    public func resumePoints(nodeID: String) async throws(StoreError) -> [String: Int64] {
        let pairs = try await self.database.read { connection throws(StoreError) in
            try connection.rows(
                "SELECT stream_key, high_seq FROM log_marks WHERE node_id = ?",
                { statement throws(StoreError) in try statement.bind(nodeID, at: 1) }
            ) { ($0.string(0), $0.int64(1)) }
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    public func logStreamCounts(nodeID: String?) async throws(StoreError) -> [LogStreamCount] {
        // One pass over the (node_id, stream_key, seq) identity index, which covers it.
        try await self.database.read { connection throws(StoreError) in
            try connection.rows(
                "SELECT node_id, stream_key, COUNT(*), COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM logs"
                    + (nodeID == nil ? "" : " WHERE node_id = ?") + " GROUP BY node_id, stream_key ORDER BY node_id, stream_key",
                { statement throws(StoreError) in if let nodeID { try statement.bind(nodeID, at: 1) } }
            ) { LogStreamCount(nodeID: $0.string(0), streamKey: $0.string(1), rows: $0.int64(2), distinctSeqs: $0.int64(3), minSeq: $0.int64(4), maxSeq: $0.int64(5)) }
        }
    }

    public func searchLogs(_ query: LogQuery) async throws(StoreError) -> [LogRow] {
        let limit = query.effectiveLimit
        var match: String?
        if let text = query.text, !text.allSatisfy(\.isWhitespace) {
            let words = FullTextQuery(text)
            // Text without a single word cannot match anything.
            if words.isEmpty { return [] }
            match = words.sqliteMatchExpression
        }
        if limit == 0 { return [] }

        var conditions: [String] = []
        if !query.nodeIDs.isEmpty {
            conditions.append("node_id IN (" + Array(repeating: "?", count: query.nodeIDs.count).joined(separator: ", ") + ")")
        }
        if !query.streamKeys.isEmpty {
            conditions.append("stream_key IN (" + Array(repeating: "?", count: query.streamKeys.count).joined(separator: ", ") + ")")
        }
        if query.minLevel != nil { conditions.append("level >= ?") }
        if query.since != nil { conditions.append("ts >= ?") }
        if query.until != nil { conditions.append("ts < ?") }
        if match != nil { conditions.append("id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)") }
        let sql =
            "SELECT node_id, stream_key, seq, ts, level, text FROM logs"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY ts DESC, id DESC LIMIT ?"
        let filterMatch = match

        return try await self.database.read { connection throws(StoreError) in
            // Not cached: the text varies with the filters given.
            let statement = try connection.prepare(sql)
            var index: Int32 = 1
            for id in query.nodeIDs {
                try statement.bind(id, at: index)
                index += 1
            }
            for key in query.streamKeys {
                try statement.bind(key, at: index)
                index += 1
            }
            for value in [query.minLevel.map(Int64.init), query.since, query.until].compactMap({ $0 }) {
                try statement.bind(value, at: index)
                index += 1
            }
            if let filterMatch {
                try statement.bind(filterMatch, at: index)
                index += 1
            }
            try statement.bind(limit, at: index)
            var rows: [LogRow] = []
            while try statement.step() {
                rows.append(
                    LogRow(
                        nodeID: statement.string(0),
                        streamKey: statement.string(1),
                        seq: statement.int64(2),
                        timestamp: statement.int64(3),
                        level: statement.int(4),
                        text: statement.string(5)
                    )
                )
            }
            return rows
        }
    }

    public func pruneLogs(olderThan: Int64) async throws(StoreError) -> Int {
        var total = 0
        while true {
            // Each chunk is its own job on the writer, so ingest interleaves with a long
            // prune. NORMAL is enough: a lost chunk is pruned again next time.
            let deleted = try await self.database.write(.normal) { connection throws(StoreError) in
                try connection.run("DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE ts < ? LIMIT ?)") { statement throws(StoreError) in
                    try statement.bind(olderThan, at: 1)
                    try statement.bind(Self.pruneChunk, at: 2)
                }
            }
            total += deleted
            if deleted < Self.pruneChunk {
                return total
            }
        }
    }
}
