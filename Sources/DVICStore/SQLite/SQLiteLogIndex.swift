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
/// with ingest writes, its progress saved with each. Readers use the side tables for the rows up to `indexed_to` and
/// scan the short unindexed tail above it (about `batch` rows, twice that while a pass
/// runs).
///
/// Dedupe stays exact: `log_marks` holds each stream's highest stored seq, so a row above
/// it is new; a row at or below it (a replay, or rows arriving out of order) is looked up in
/// `log_ident` after a pass has brought it up to date.
public enum SQLiteLogIndex {
    /// Unindexed rows that trigger a pass: at 20,000 rows/s a pass every 15 s, and the tail
    /// a node query scans (up to twice this while a pass runs) about 40 ms.
    ///
    /// Why not fewer: once each node has a few leaf pages in a side table, a pass rewrites
    /// a few of them per node and table almost whatever its size (2.5 at 100,000 rows,
    /// 3.3 at 300,000). A pass's entries
    /// land in the middle of the tree, on pages that SQLite's balancing left full, so each
    /// node's page overflows and is rebalanced with its siblings. At 100,000 rows a pass
    /// that was 0.5 WAL pages a row, about 100 MB/s with the checkpoint's copy under the
    /// fleet; at 300,000, 0.22 (Benchmarks/sqlite-side-pass-growth.py, eighth round).
    public static let batch: Int64 = 300_000

    /// Where the side index stands: the highest `logs.id` it covers, and the pass under
    /// way, if any (its last row id, and the last node id its steps have done).
    struct State {
        var indexedTo: Int64
        var passTo: Int64?
        var passAfter: String?

        /// Ids at or below this are indexed or belong to a pass under way; a new row's id
        /// must be above it, or it would fall into a range that no pass indexes again.
        var floor: Int64 { max(indexedTo, passTo ?? 0) }
    }

    static func state(_ connection: SQLiteConnection) throws(StoreError) -> State {
        try connection.firstRow("SELECT indexed_to, pass_to, pass_after FROM log_index_state") {
            State(indexedTo: $0.int64(0), passTo: $0.optionalInt64(1), passAfter: $0.optionalString(2))
        } ?? State(indexedTo: 0)
    }

    private static func save(_ connection: SQLiteConnection, _ state: State) throws(StoreError) {
        try connection.run("UPDATE log_index_state SET indexed_to = ?, pass_to = ?, pass_after = ?") { statement throws(StoreError) in
            try statement.bind(state.indexedTo, at: 1)
            try statement.bind(state.passTo, at: 2)
            try statement.bind(state.passAfter, at: 3)
        }
    }

    /// The id for the next inserted row. Ids are given explicitly: SQLite would reuse the
    /// ids of deleted newest rows, and a reused id inside an indexed range would never be
    /// indexed.
    static func nextID(_ connection: SQLiteConnection, floor: Int64) throws(StoreError) -> Int64 {
        let newest = try connection.firstRow("SELECT coalesce(max(id), 0) FROM logs") { $0.int64(0) } ?? 0
        return max(newest, floor) + 1
    }

    /// Indexes every row above `indexed_to` at once and ends any pass under way; returns
    /// the new `indexed_to`.
    @discardableResult
    static func catchUp(_ connection: SQLiteConnection) throws(StoreError) -> Int64 {
        let state = try state(connection)
        let newest = try connection.firstRow("SELECT coalesce(max(id), 0) FROM logs") { $0.int64(0) } ?? 0
        try stage(connection, from: state.indexedTo, to: newest)
        try insertStaged(connection, nodesAfter: nil, upTo: nil)
        let covered = max(newest, state.floor)
        try save(connection, State(indexedTo: covered))
        return covered
    }

    /// Steps a pass is split into (`LogIndexPass`): about 500 nodes each at 10,000 nodes,
    /// so that the ingest write a step rides along with rewrites a few thousand pages, not
    /// the pass's tens of thousands.
    static let steps = 20

    /// One step of the pass under way, or the first of a new one when `batch` rows above
    /// `indexed_to` wait (the newest being `newest`). `plan` is a cache of the pass's node
    /// plan, planned again whenever it does not match the pass.
    static func advance(_ connection: SQLiteConnection, newest: Int64, batch: Int64, plan: inout LogIndexPass?) throws(StoreError) {
        var state = try state(connection)
        if state.passTo == nil {
            guard newest - state.indexedTo >= batch else { return }
            state.passTo = newest
            state.passAfter = nil
        }
        guard let passTo = state.passTo else { return }
        try stage(connection, from: state.indexedTo, to: passTo)
        if plan.map({ $0.from != state.indexedTo || $0.to != passTo }) ?? true {
            let nodes = try connection.rows("SELECT DISTINCT node_id FROM temp.log_pass") { $0.string(0) }
            plan = LogIndexPass(from: state.indexedTo, to: passTo, nodes: nodes, steps: steps)
        }
        if let step = plan?.step(after: state.passAfter) {
            try insertStaged(connection, nodesAfter: state.passAfter, upTo: step.end)
            state.passAfter = step.end
            if step.isLast { state = State(indexedTo: max(state.indexedTo, passTo)) }
        } else {
            // Nothing (left) to index in the range: the pass is over.
            state = State(indexedTo: max(state.indexedTo, passTo))
        }
        try save(connection, state)
    }

    /// Creates the writer connection's staging tables (`stage`), once, when it opens:
    /// outside any transaction, so no rollback drops them, and not on every ingest write.
    static func createStagingTables(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS log_pass (
                node_id TEXT NOT NULL, stream_key TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, id INTEGER NOT NULL,
                PRIMARY KEY (node_id, stream_key, seq, id)
            ) WITHOUT ROWID;
            CREATE TEMP TABLE IF NOT EXISTS log_pass_range (from_id INTEGER NOT NULL, to_id INTEGER NOT NULL);
            """)
    }

    /// Makes `temp.log_pass` hold the index entries of the rows `from < id <= to`, sorted by
    /// node, unless it holds them already. Read once per pass, so that a step reads its
    /// own nodes' entries rather than scan the pass's 300,000 rows, text and all, twice:
    /// that scan was half of each step. What the tables hold rolls back with the
    /// transaction that filled them, and `temp.log_pass_range` says which rows they hold,
    /// so a staging that rolled back (or a new connection) is simply staged again.
    private static func stage(_ connection: SQLiteConnection, from: Int64, to: Int64) throws(StoreError) {
        let staged = try connection.firstRow("SELECT from_id, to_id FROM temp.log_pass_range") { ($0.int64(0), $0.int64(1)) }
        if let staged, staged == (from, to) { return }
        try connection.run("DELETE FROM temp.log_pass")
        try connection.run("DELETE FROM temp.log_pass_range")
        try connection.run("INSERT INTO temp.log_pass (node_id, stream_key, seq, ts, id) SELECT node_id, stream_key, seq, ts, id FROM logs WHERE id > ? AND id <= ?") { statement throws(StoreError) in
            try statement.bind(from, at: 1)
            try statement.bind(to, at: 2)
        }
        try connection.run("INSERT INTO temp.log_pass_range (from_id, to_id) VALUES (?, ?)") { statement throws(StoreError) in
            try statement.bind(from, at: 1)
            try statement.bind(to, at: 2)
        }
    }

    /// Puts the staged entries of the nodes after `nodesAfter` up to `upTo` (each
    /// unbounded when nil) into both side tables, sorted.
    private static func insertStaged(_ connection: SQLiteConnection, nodesAfter: String?, upTo: String?) throws(StoreError) {
        // Conditions only for the bounds there are, so that both are ranges on the key.
        var conditions = ["1"]
        if nodesAfter != nil { conditions.append("node_id > ?1") }
        if upTo != nil { conditions.append("node_id <= ?2") }
        let range = conditions.joined(separator: " AND ")
        let bind = { (statement: SQLiteStatement) throws(StoreError) in
            if let nodesAfter { try statement.bind(nodesAfter, at: 1) }
            if let upTo { try statement.bind(upTo, at: 2) }
        }
        // OR IGNORE: appendLogs never stores a (stream, seq) twice, so nothing is ignored
        // in practice; should a duplicate ever slip in, the pass must not fail (and with
        // it every later write), and `logStreamCounts` still reports it.
        try connection.run(
            "INSERT OR IGNORE INTO log_ident (node_id, stream_key, seq, id) SELECT node_id, stream_key, seq, id FROM temp.log_pass WHERE "
                + range + " ORDER BY node_id, stream_key, seq", bind)
        try connection.run(
            "INSERT OR IGNORE INTO log_node_ts (node_id, ts, id) SELECT node_id, ts, id FROM temp.log_pass WHERE "
                + range + " ORDER BY node_id, ts, id", bind)
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
