/// The per-node side index of the SQLite log table, kept in bulk instead of row by row.
///
/// Why: a fleet's log rows arrive interleaved from thousands of nodes. An index keyed by
/// node puts each node's newest entries on that node's own leaf page, so a commit holding
/// a batch from 500 nodes dirtied 500 leaf pages per such index, written to the WAL and
/// again at checkpoint. With the two per-node indexes of schema 1 ((node, stream, seq) for
/// dedupe, (node, ts) for a node's view) 10,000 nodes cost about 20 KB of writes per
/// 150-byte row and the single writer stored about 8,000 rows/s, falling as the file grew
/// (Benchmarks/sqlite-log-index.py). The table itself, its `ts` index and the full-text
/// index only append, so `logs` now carries no per-node index. `log_ident` and `log_node_ts`
/// are filled from the rows above `log_index_state.indexed_to` once `batch` of them have
/// gathered, sorted by key, so each node's leaf pages are written once per pass rather than
/// once per commit; a pass is split into steps by node (`LogIndexPass`) that ride along
/// with ingest writes. Readers use the side tables for the rows up to `indexed_to` and
/// scan the short unindexed tail above it (about `batch` rows, twice that while a pass
/// runs).
///
/// Dedupe stays exact: `log_marks` holds each stream's highest stored seq, so a row above
/// it is new; a row at or below it (a replay, or rows arriving out of order) is looked up in
/// `log_ident` after a pass has brought it up to date.
public enum SQLiteLogIndex {
    /// Unindexed rows that trigger a pass: at 20,000 rows/s a pass every 5 s, and the tail a
    /// node query scans stays a few tens of milliseconds.
    public static let batch: Int64 = 100_000

    /// The highest `logs.id` the side tables cover.
    static func indexedTo(_ connection: SQLiteConnection) throws(StoreError) -> Int64 {
        try connection.firstRow("SELECT indexed_to FROM log_index_state") { $0.int64(0) } ?? 0
    }

    /// The id for the next inserted row, above `floor` (`indexed_to`, or the end of a pass
    /// under way). Ids are given explicitly: SQLite would reuse the ids of deleted newest
    /// rows, and a reused id at or below `indexed_to` would never be indexed.
    static func nextID(_ connection: SQLiteConnection, floor: Int64) throws(StoreError) -> Int64 {
        let newest = try connection.firstRow("SELECT coalesce(max(id), 0) FROM logs") { $0.int64(0) } ?? 0
        return max(newest, floor) + 1
    }

    /// Indexes every row above `indexed_to`; returns the new `indexed_to`.
    @discardableResult
    static func catchUp(_ connection: SQLiteConnection, from indexedTo: Int64) throws(StoreError) -> Int64 {
        let bind = { (statement: SQLiteStatement) throws(StoreError) in try statement.bind(indexedTo, at: 1) }
        // OR IGNORE: appendLogs never stores a (stream, seq) twice, so nothing is ignored
        // in practice; should a duplicate ever slip in, the pass must not fail (and with
        // it every later write), and `logStreamCounts` still reports it.
        try connection.run(
            """
            INSERT OR IGNORE INTO log_ident (node_id, stream_key, seq, id)
            SELECT node_id, stream_key, seq, id FROM logs WHERE id > ? ORDER BY node_id, stream_key, seq
            """, bind)
        try connection.run(
            """
            INSERT OR IGNORE INTO log_node_ts (node_id, ts, id)
            SELECT node_id, ts, id FROM logs WHERE id > ? ORDER BY node_id, ts, id
            """, bind)
        let newest = try connection.firstRow("SELECT coalesce(max(id), 0) FROM logs") { $0.int64(0) } ?? 0
        let covered = max(newest, indexedTo)
        try connection.run("UPDATE log_index_state SET indexed_to = ?") { statement throws(StoreError) in
            try statement.bind(covered, at: 1)
        }
        return covered
    }

    /// Steps a pass is split into (`LogIndexPass`).
    static let steps = 10

    /// Plans a pass over the rows `from < id <= to`.
    static func plan(_ connection: SQLiteConnection, from: Int64, to: Int64) throws(StoreError) -> LogIndexPass {
        let nodes = try connection.rows(
            "SELECT DISTINCT node_id FROM logs WHERE id > ? AND id <= ?",
            { statement throws(StoreError) in
                try statement.bind(from, at: 1)
                try statement.bind(to, at: 2)
            }
        ) { $0.string(0) }
        return LogIndexPass(from: from, to: to, nodes: nodes, steps: steps)
    }

    /// Runs the pass's next step; once the last one ran, moves `indexed_to` to the pass's
    /// end. Returns whether the pass is done.
    static func step(_ connection: SQLiteConnection, _ pass: inout LogIndexPass) throws(StoreError) -> Bool {
        if let nodes = pass.takeStep() {
            let bind = { (statement: SQLiteStatement) throws(StoreError) in
                try statement.bind(pass.from, at: 1)
                try statement.bind(pass.to, at: 2)
                try statement.bind(nodes.lowerBound, at: 3)
                try statement.bind(nodes.upperBound, at: 4)
            }
            try connection.run(
                """
                INSERT OR IGNORE INTO log_ident (node_id, stream_key, seq, id)
                SELECT node_id, stream_key, seq, id FROM logs WHERE id > ? AND id <= ? AND node_id BETWEEN ? AND ?
                ORDER BY node_id, stream_key, seq
                """, bind)
            try connection.run(
                """
                INSERT OR IGNORE INTO log_node_ts (node_id, ts, id)
                SELECT node_id, ts, id FROM logs WHERE id > ? AND id <= ? AND node_id BETWEEN ? AND ?
                ORDER BY node_id, ts, id
                """, bind)
        }
        guard pass.isDone else { return false }
        try connection.run("UPDATE log_index_state SET indexed_to = max(indexed_to, ?)") { statement throws(StoreError) in
            try statement.bind(pass.to, at: 1)
        }
        return true
    }

    /// Whether the indexed rows hold this (stream, seq). Call after `catchUp`.
    static func holds(_ connection: SQLiteConnection, nodeID: String, streamKey: String, seq: Int64) throws(StoreError) -> Bool {
        try connection.firstRow(
            "SELECT 1 FROM log_ident WHERE node_id = ? AND stream_key = ? AND seq = ?",
            { statement throws(StoreError) in
                try statement.bind(nodeID, at: 1)
                try statement.bind(streamKey, at: 2)
                try statement.bind(seq, at: 3)
            }
        ) { _ in true } ?? false
    }

    /// The highest seq ever stored for a stream, 0 when none.
    static func mark(_ connection: SQLiteConnection, nodeID: String, streamKey: String) throws(StoreError) -> Int64 {
        try connection.firstRow(
            "SELECT high_seq FROM log_marks WHERE node_id = ? AND stream_key = ?",
            { statement throws(StoreError) in
                try statement.bind(nodeID, at: 1)
                try statement.bind(streamKey, at: 2)
            }
        ) { $0.int64(0) } ?? 0
    }
}
