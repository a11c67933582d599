import Synchronization

extension SQLiteFleetStore {
    /// `INSERT INTO logs … VALUES (…),(…)` for 1…`rowsPerStatement` rows, built once;
    /// each text is also the key of its cached prepared statement.
    private static let insertLogsSQL: [String] = (0...SQLiteFleetStore.rowsPerStatement).map { count in
        "INSERT INTO logs (id, node_id, stream_key, seq, ts, level, text) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: count).joined(separator: ", ")
    }

    /// The same upsert of stream marks for 1…`rowsPerStatement` streams.
    private static let upsertMarksSQL: [String] = (0...SQLiteFleetStore.rowsPerStatement).map { count in
        "INSERT INTO log_marks (node_id, stream_key, high_seq) VALUES "
            + Array(repeating: "(?, ?, ?)", count: count).joined(separator: ", ")
            + " ON CONFLICT (node_id, stream_key) DO UPDATE SET high_seq = max(high_seq, excluded.high_seq)"
    }

    /// Streams whose marks `logMarks` keeps before it starts over.
    static let cachedMarksLimit = 200_000

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
        return try await self.database.write(.full, lane: .bulk, { connection throws(StoreError) in
            // What to insert: rows above their stream's mark are new unless repeated in this
            // call; rows at or below it are looked up once the side index is up to date.
            var marks: [LogStreamID: Int64] = [:]
            marks.reserveCapacity(streams.count)
            var unknown: [LogStreamID] = []
            self.logMarks.withLock { cache in
                for stream in streams.keys {
                    if let mark = cache[stream] { marks[stream] = mark } else { unknown.append(stream) }
                }
            }
            if !unknown.isEmpty {
                // Not in the cache: a mark still waiting to be written is above the table's.
                let waiting = self.logMarkLedger.withLock { ledger in unknown.map { ledger.mark($0) } }
                for (stream, mark) in zip(unknown, waiting) {
                    if let mark {
                        marks[stream] = mark
                    } else {
                        marks[stream] = try SQLiteLogIndex.mark(connection, nodeID: stream.nodeID, streamKey: stream.streamKey)
                    }
                }
            }
            var kept: [LogRow] = []
            kept.reserveCapacity(rows.count)
            var keptKeys: Set<LogRowKey> = []
            keptKeys.reserveCapacity(rows.count)
            var caughtUp = false
            for row in rows {
                let stream = LogStreamID(nodeID: row.nodeID, streamKey: row.streamKey)
                guard keptKeys.insert(LogRowKey(stream: stream, seq: row.seq)).inserted else { continue }
                if row.seq <= marks[stream] ?? 0 {
                    if !caughtUp {
                        try SQLiteLogIndex.catchUp(connection)
                        caughtUp = true
                    }
                    if try SQLiteLogIndex.holds(connection, nodeID: row.nodeID, streamKey: row.streamKey, seq: row.seq) { continue }
                }
                kept.append(row)
            }
            var id = try SQLiteLogIndex.nextID(connection, floor: SQLiteLogIndex.state(connection).floor)
            var start = kept.startIndex
            while start < kept.endIndex {
                let count = min(Self.rowsPerStatement, kept.endIndex - start)
                let statement = try connection.cached(Self.insertLogsSQL[count])
                defer { statement.reset() }
                var index: Int32 = 1
                for row in kept[start..<(start + count)] {
                    try statement.bind(id, at: index)
                    try statement.bind(row.nodeID, at: index + 1)
                    try statement.bind(row.streamKey, at: index + 2)
                    try statement.bind(row.seq, at: index + 3)
                    try statement.bind(row.timestamp, at: index + 4)
                    try statement.bind(row.level, at: index + 5)
                    try statement.bind(LogRow.storableText(row.text), at: index + 6)
                    index += 7
                    id += 1
                }
                try statement.run()
                start += count
            }
            try self.logIndexPlan.withLock { plan throws(StoreError) in
                try SQLiteLogIndex.advance(connection, newest: id - 1, batch: self.logIndexBatch, plan: &plan)
            }
            // The marks after this call: what was stored or this call's highest, whichever
            // is higher. They wait in the ledger, and the call that finds the ledger due
            // writes every waiting mark (LogMarkLedger).
            var highWaterMarks: [LogStreamID: Int64] = [:]
            highWaterMarks.reserveCapacity(streams.count)
            for (stream, high) in streams { highWaterMarks[stream] = max(marks[stream] ?? 0, high) }
            let changed = highWaterMarks.filter { marks[$0.key] != $0.value }
            let now = ContinuousClock.now
            let save = self.logMarkLedger.withLock { ledger in ledger.isDue(at: now) ? ledger.toSave(with: changed) : nil }
            if let save {
                // Every row up to this call's last id now has its mark in the table.
                try Self.writeMarks(connection, save, savedThrough: id - 1)
            }
            let result = LogAppendResult(inserted: kept.count, duplicates: rows.count - kept.count, highWaterMarks: highWaterMarks)
            return MarkedAppend(result: result, changed: changed, saved: save, at: now)
        }, committed: { marked in
            self.logMarks.withLock { cache in
                // Bounded: streams come and go with demo programs; a dropped entry is read again.
                if cache.count > Self.cachedMarksLimit { cache.removeAll(keepingCapacity: true) }
                cache.merge(marked.result.highWaterMarks) { Swift.max($0, $1) }
            }
            self.logMarkLedger.withLock { ledger in
                ledger.record(marked.changed)
                if let saved = marked.saved { ledger.saved(saved, at: marked.at) }
            }
        }).result
    }

    /// What an `appendLogs` write hands its `committed` hook: the marks it raised, and
    /// those it wrote to the table, if it was the one due to.
    private struct MarkedAppend: Sendable {
        var result: LogAppendResult
        var changed: [LogStreamID: Int64]
        var saved: [LogStreamID: Int64]?
        var at: ContinuousClock.Instant
    }

    /// Upserts `marks` (never lowering one), many streams per statement, and records that
    /// every row up to `savedThrough` is covered.
    private static func writeMarks(_ connection: SQLiteConnection, _ marks: [LogStreamID: Int64], savedThrough: Int64) throws(StoreError) {
        var pending = marks.startIndex
        while pending < marks.endIndex {
            let count = min(Self.rowsPerStatement, marks.distance(from: pending, to: marks.endIndex))
            let statement = try connection.cached(Self.upsertMarksSQL[count])
            defer { statement.reset() }
            var index: Int32 = 1
            for _ in 0..<count {
                let (stream, mark) = marks[pending]
                try statement.bind(stream.nodeID, at: index)
                try statement.bind(stream.streamKey, at: index + 1)
                try statement.bind(mark, at: index + 2)
                index += 3
                pending = marks.index(after: pending)
            }
            try statement.run()
        }
        try connection.run("UPDATE log_marks_state SET saved_through = max(saved_through, ?)") { statement throws(StoreError) in
            try statement.bind(savedThrough, at: 1)
        }
    }

    /// Rebuilds the marks a stop lost before they were written (`LogMarkLedger`): the
    /// highest seq of each stream among the rows above `saved_through`, which are at most
    /// the last second's. Runs once at open, before any ingest write.
    func recoverLogMarks() async throws(StoreError) {
        try await self.database.write { connection throws(StoreError) in
            let through = try connection.firstRow("SELECT saved_through FROM log_marks_state") { $0.int64(0) } ?? 0
            try connection.run(
                "INSERT INTO log_marks (node_id, stream_key, high_seq) SELECT node_id, stream_key, max(seq) FROM logs WHERE id > ?"
                    + " GROUP BY node_id, stream_key ON CONFLICT (node_id, stream_key) DO UPDATE SET high_seq = max(high_seq, excluded.high_seq)"
            ) { statement throws(StoreError) in try statement.bind(through, at: 1) }
            try connection.run("UPDATE log_marks_state SET saved_through = max(saved_through, (SELECT coalesce(max(id), 0) FROM logs))")
        }
    }

    /// A row's identity within one `appendLogs` call.
    private struct LogRowKey: Hashable {
        var stream: LogStreamID
        var seq: Int64
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
        // The waiting marks before the table: one written in between is then in the table
        // read. One committed in between is missed, so a point can only be low, and a
        // replay from a low point is deduplicated.
        let waiting = self.logMarkLedger.withLock { $0.marks(nodeID: nodeID) }
        let pairs = try await self.database.read { connection throws(StoreError) in
            try connection.rows(
                "SELECT stream_key, high_seq FROM log_marks WHERE node_id = ?",
                { statement throws(StoreError) in try statement.bind(nodeID, at: 1) }
            ) { ($0.string(0), $0.int64(1)) }
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first }).merging(waiting) { Swift.max($0, $1) }
    }

    public func logStreamCounts(nodeID: String?) async throws(StoreError) -> [LogStreamCount] {
        // The side index first covers every row, then answers in one ordered pass: distinct
        // seqs and their range from `log_ident` (one entry per stored (stream, seq)). Rows
        // are the same number unless a duplicate slipped past appendLogs; `log_node_ts`
        // holds one entry per row, so comparing the two totals tells, and only then are
        // the rows themselves counted (a full scan), so a duplicate can never hide here.
        try await self.database.write(.normal, lane: .bulk) { connection throws(StoreError) in
            try SQLiteLogIndex.catchUp(connection)
            let filter = nodeID == nil ? "" : " WHERE node_id = ?"
            let bind = { (statement: SQLiteStatement) throws(StoreError) in if let nodeID { try statement.bind(nodeID, at: 1) } }
            let identities = try connection.firstRow("SELECT count(*) FROM log_ident" + filter, bind) { $0.int64(0) } ?? 0
            let rows = try connection.firstRow("SELECT count(*) FROM log_node_ts" + filter, bind) { $0.int64(0) } ?? 0
            let sql =
                identities == rows
                ? "SELECT node_id, stream_key, COUNT(*), COUNT(*), MIN(seq), MAX(seq) FROM log_ident" + filter
                    + " GROUP BY node_id, stream_key ORDER BY node_id, stream_key"
                : "SELECT node_id, stream_key, COUNT(*), COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM logs" + filter
                    + " GROUP BY node_id, stream_key ORDER BY node_id, stream_key"
            return try connection.rows(sql, bind) {
                LogStreamCount(nodeID: $0.string(0), streamKey: $0.string(1), rows: $0.int64(2), distinctSeqs: $0.int64(3), minSeq: $0.int64(4), maxSeq: $0.int64(5))
            }
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

        // Conditions every row must meet, on the logs table's own columns (`prefix`
        // qualifies them inside a join); `bindFilters` below binds them in this order.
        func conditions(_ prefix: String) -> [String] {
            var conditions: [String] = []
            if !query.streamKeys.isEmpty {
                conditions.append("\(prefix)stream_key IN (" + Array(repeating: "?", count: query.streamKeys.count).joined(separator: ", ") + ")")
            }
            if query.minLevel != nil { conditions.append("\(prefix)level >= ?") }
            if query.since != nil { conditions.append("\(prefix)ts >= ?") }
            if query.until != nil { conditions.append("\(prefix)ts < ?") }
            if match != nil { conditions.append("\(prefix)id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)") }
            return conditions
        }
        let sql: String
        if query.nodeIDs.isEmpty {
            let all = conditions("")
            sql =
                "SELECT node_id, stream_key, seq, ts, level, text FROM logs"
                + (all.isEmpty ? "" : " WHERE " + all.joined(separator: " AND "))
                + " ORDER BY ts DESC, id DESC LIMIT ?"
        } else {
            // A node's rows: the indexed ones through log_node_ts in time order, the
            // unindexed tail (above indexed_to, about SQLiteLogIndex.batch rows) by scanning
            // it. The two parts never overlap: rows a pass under way already put in the
            // side tables are above indexed_to, so they are read as tail.
            let nodes = "node_id IN (" + Array(repeating: "?", count: query.nodeIDs.count).joined(separator: ", ") + ")"
            var indexed = ["x." + nodes, "x.id <= (SELECT indexed_to FROM log_index_state)"]
            if query.since != nil { indexed.append("x.ts >= ?") }
            if query.until != nil { indexed.append("x.ts < ?") }
            indexed += conditions("l.")
            let tail = ["id > (SELECT indexed_to FROM log_index_state)", nodes] + conditions("")
            sql =
                "SELECT node_id, stream_key, seq, ts, level, text FROM ("
                + "SELECT * FROM (SELECT l.id, l.node_id, l.stream_key, l.seq, l.ts, l.level, l.text"
                + " FROM log_node_ts x JOIN logs l ON l.id = x.id WHERE " + indexed.joined(separator: " AND ")
                + " ORDER BY x.ts DESC, x.id DESC LIMIT ?)"
                + " UNION ALL "
                // NOT INDEXED: otherwise the planner walks logs_ts backwards over the whole
                // table to skip the sort of a few tail rows.
                + "SELECT * FROM (SELECT id, node_id, stream_key, seq, ts, level, text FROM logs NOT INDEXED WHERE "
                + tail.joined(separator: " AND ") + " ORDER BY ts DESC, id DESC LIMIT ?)"
                + ") ORDER BY ts DESC, id DESC LIMIT ?"
        }
        let filterMatch = match

        return try await self.database.read { connection throws(StoreError) in
            // Not cached: the text varies with the filters given.
            let statement = try connection.prepare(sql)
            var index: Int32 = 1
            func bindFilters(nodes: Bool, indexedTime: Bool) throws(StoreError) {
                if nodes {
                    for id in query.nodeIDs {
                        try statement.bind(id, at: index)
                        index += 1
                    }
                }
                if indexedTime {
                    for value in [query.since, query.until].compactMap({ $0 }) {
                        try statement.bind(value, at: index)
                        index += 1
                    }
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
                index += 1
            }
            if query.nodeIDs.isEmpty {
                try bindFilters(nodes: false, indexedTime: false)
            } else {
                try bindFilters(nodes: true, indexedTime: true)
                try bindFilters(nodes: true, indexedTime: false)
                try statement.bind(limit, at: index)
            }
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
            let deleted = try await self.database.write(.normal, lane: .bulk) { connection throws(StoreError) in
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
