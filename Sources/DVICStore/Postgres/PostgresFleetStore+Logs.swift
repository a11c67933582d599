import Logging
import NIOCore
import PostgresNIO

extension PostgresFleetStore {
    /// Rows deleted per retention transaction (as in SQLite).
    static let pruneChunk = 20_000

    public func appendLogs(_ rows: [LogRow]) async throws(StoreError) -> LogAppendResult {
        guard !rows.isEmpty else {
            return LogAppendResult(inserted: 0, duplicates: 0, highWaterMarks: [:])
        }
        var batchHigh: [LogStreamID: Int64] = [:]
        for row in rows {
            let stream = LogStreamID(nodeID: row.nodeID, streamKey: row.streamKey)
            if let high = batchHigh[stream], high >= row.seq { continue }
            batchHigh[stream] = row.seq
        }
        // Sorted so that racing transactions take row locks in one order.
        let streams = batchHigh.sorted { $0.key < $1.key }
        let rowCount = rows.count

        return try await self.transaction("appendLogs") { connection in
            var inserted = 0
            var start = rows.startIndex
            while start < rows.endIndex {
                let chunk = rows[start..<min(start + Self.rowsPerStatement, rows.endIndex)]
                let nodeIDs = chunk.map(\.nodeID)
                let streamKeys = chunk.map(\.streamKey)
                let seqs = chunk.map(\.seq)
                let timestamps = chunk.map(\.timestamp)
                let levels = chunk.map(\.level)
                let texts = chunk.map { LogRow.storableText($0.text) }
                inserted += try await Self.count(
                    connection.query(
                        """
                        WITH added AS (
                            INSERT INTO logs (node_id, stream_key, seq, ts, level, text)
                            SELECT * FROM unnest(\(nodeIDs)::text[], \(streamKeys)::text[], \(seqs)::int8[],
                                \(timestamps)::int8[], \(levels)::int8[], \(texts)::text[])
                            ON CONFLICT (node_id, stream_key, seq) DO NOTHING
                            RETURNING 1
                        ) SELECT count(*) FROM added
                        """,
                        logger: self.logger
                    )
                )
                start = chunk.endIndex
            }
            let markNodes = streams.map(\.key.nodeID)
            let markKeys = streams.map(\.key.streamKey)
            let markSeqs = streams.map(\.value)
            var marks: [LogStreamID: Int64] = [:]
            let rows = try await connection.query(
                """
                INSERT INTO log_marks (node_id, stream_key, high_seq)
                SELECT * FROM unnest(\(markNodes)::text[], \(markKeys)::text[], \(markSeqs)::int8[])
                ON CONFLICT (node_id, stream_key) DO UPDATE SET high_seq = greatest(log_marks.high_seq, EXCLUDED.high_seq)
                RETURNING node_id, stream_key, high_seq
                """,
                logger: self.logger
            )
            for try await (nodeID, streamKey, high) in rows.decode((String, String, Int64).self) {
                marks[LogStreamID(nodeID: nodeID, streamKey: streamKey)] = high
            }
            return LogAppendResult(inserted: inserted, duplicates: rowCount - inserted, highWaterMarks: marks)
        }
    }

    public func upsertLogStream(_ stream: LogStreamRecord) async throws(StoreError) {
        try await self.perform("upsertLogStream") { client in
            try await client.query(
                """
                INSERT INTO log_streams (node_id, key, source, name, path, metadata, opened_at)
                VALUES (\(stream.nodeID), \(stream.key), \(stream.source), \(stream.name), \(stream.path),
                    \(JSONColumn.encode(stream.metadata)), \(stream.openedAt))
                ON CONFLICT (node_id, key) DO UPDATE SET source = EXCLUDED.source, name = EXCLUDED.name,
                    path = EXCLUDED.path, metadata = EXCLUDED.metadata, opened_at = EXCLUDED.opened_at
                """,
                logger: self.logger
            )
        }
    }

    public func logStreams(nodeID: String) async throws(StoreError) -> [LogStreamRecord] {
        try await self.perform("logStreams") { client in
            let rows = try await client.query(
                """
                SELECT node_id, key, source, name, path, metadata, opened_at FROM log_streams
                WHERE node_id = \(nodeID) ORDER BY key COLLATE "C"
                """,
                logger: self.logger
            )
            var streams: [LogStreamRecord] = []
            for try await (nodeID, key, source, name, path, metadata, openedAt) in rows.decode(
                (String, String, Int, String, String, String, Int64).self
            ) {
                streams.append(
                    LogStreamRecord(
                        nodeID: nodeID,
                        key: key,
                        source: source,
                        name: name,
                        path: path,
                        metadata: try JSONColumn.dictionary(metadata, column: "log_streams.metadata"),
                        openedAt: openedAt
                    )
                )
            }
            return streams
        }
    }

    public func resumePoints(nodeID: String) async throws(StoreError) -> [String: Int64] {
        try await self.perform("resumePoints") { client in
            var points: [String: Int64] = [:]
            let rows = try await client.query("SELECT stream_key, high_seq FROM log_marks WHERE node_id = \(nodeID)", logger: self.logger)
            for try await (key, high) in rows.decode((String, Int64).self) {
                points[key] = high
            }
            return points
        }
    }

    public func logStreamCounts(nodeID: String?) async throws(StoreError) -> [LogStreamCount] {
        try await self.perform("logStreamCounts") { client in
            var counts: [LogStreamCount] = []
            let rows = try await client.query(
                "SELECT node_id, stream_key, COUNT(*)::BIGINT, COUNT(DISTINCT seq)::BIGINT, MIN(seq)::BIGINT, MAX(seq)::BIGINT FROM logs WHERE (\(nodeID)::TEXT IS NULL OR node_id = \(nodeID)) GROUP BY node_id, stream_key ORDER BY node_id COLLATE \"C\", stream_key COLLATE \"C\"",
                logger: self.logger)
            for try await (node, key, total, distinct, low, high) in rows.decode((String, String, Int64, Int64, Int64, Int64).self) {
                counts.append(LogStreamCount(nodeID: node, streamKey: key, rows: total, distinctSeqs: distinct, minSeq: low, maxSeq: high))
            }
            return counts
        }
    }

    public func searchLogs(_ query: LogQuery) async throws(StoreError) -> [LogRow] {
        let limit = query.effectiveLimit
        var words: FullTextQuery?
        if let text = query.text, !text.allSatisfy(\.isWhitespace) {
            let parsed = FullTextQuery(text)
            if parsed.isEmpty { return [] }
            words = parsed
        }
        if limit == 0 { return [] }

        var conditions: [String] = []
        var binds = PostgresBindings()
        func parameter() -> String { "$\(binds.count)" }
        if !query.nodeIDs.isEmpty {
            binds.append(query.nodeIDs)
            conditions.append("node_id = ANY(\(parameter())::text[])")
        }
        if !query.streamKeys.isEmpty {
            binds.append(query.streamKeys)
            conditions.append("stream_key = ANY(\(parameter())::text[])")
        }
        if let minLevel = query.minLevel {
            binds.append(minLevel)
            conditions.append("level >= \(parameter())")
        }
        if let since = query.since {
            binds.append(since)
            conditions.append("ts >= \(parameter())")
        }
        if let until = query.until {
            binds.append(until)
            conditions.append("ts < \(parameter())")
        }
        if let words {
            // plainto_tsquery has no operators: the words are only ever words.
            binds.append(words.postgresPlainText)
            conditions.append("tsv @@ plainto_tsquery('simple', \(parameter()))")
        }
        binds.append(limit)
        let sql =
            "SELECT node_id, stream_key, seq, ts, level, text FROM logs"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY ts DESC, id DESC LIMIT \(parameter())"
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)

        return try await self.perform("searchLogs") { client in
            var result: [LogRow] = []
            let rows = try await client.query(statement, logger: self.logger)
            for try await (nodeID, streamKey, seq, timestamp, level, text) in rows.decode((String, String, Int64, Int64, Int, String).self) {
                result.append(LogRow(nodeID: nodeID, streamKey: streamKey, seq: seq, timestamp: timestamp, level: level, text: text))
            }
            return result
        }
    }

    public func pruneLogs(olderThan: Int64) async throws(StoreError) -> Int {
        // Chunked like SQLite's, so one prune never holds a huge transaction.
        var total = 0
        while true {
            let deleted = try await self.transaction("pruneLogs") { connection in
                try await connection.query("SET LOCAL synchronous_commit = off", logger: self.logger)
                return try await Self.count(
                    connection.query(
                        """
                        WITH gone AS (
                            DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE ts < \(olderThan) LIMIT \(Self.pruneChunk))
                            RETURNING 1
                        ) SELECT count(*) FROM gone
                        """,
                        logger: self.logger
                    )
                )
            }
            total += deleted
            if deleted < Self.pruneChunk {
                return total
            }
        }
    }
}
