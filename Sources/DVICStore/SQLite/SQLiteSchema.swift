/// The SQLite schema, as numbered migrations applied in order at open.
///
/// `schema_version` holds one row per applied migration. A migration and its row go
/// in one transaction, so a crash mid-way leaves the previous version intact. A file
/// with a version above `migrations.count` came from newer software and is refused.
enum SQLiteSchema {
    static let migrations: [String] = [
        // 1: everything of the first release.
        """
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;

        -- username and role are read from users at lookup (always current).
        CREATE TABLE sessions (
            token_hash BLOB PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX sessions_user ON sessions(user_id);
        CREATE INDEX sessions_expires ON sessions(expires_at);

        CREATE TABLE enrollments (
            token_hash BLOB PRIMARY KEY,
            name TEXT NOT NULL,
            tags TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            node_id TEXT
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE nodes (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            tags TEXT NOT NULL,
            public_key BLOB NOT NULL,
            device_token_hash BLOB UNIQUE,
            agent_version TEXT NOT NULL,
            inventory TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            last_seen INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE log_streams (
            node_id TEXT NOT NULL,
            key TEXT NOT NULL,
            source INTEGER NOT NULL,
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            metadata TEXT NOT NULL,
            opened_at INTEGER NOT NULL,
            PRIMARY KEY (node_id, key)
        ) STRICT, WITHOUT ROWID;

        -- Highest seq ever stored per stream, updated in the appendLogs transaction;
        -- survives retention, so resume points never move back.
        CREATE TABLE log_marks (
            node_id TEXT NOT NULL,
            stream_key TEXT NOT NULL,
            high_seq INTEGER NOT NULL,
            PRIMARY KEY (node_id, stream_key)
        ) STRICT, WITHOUT ROWID;

        -- id is the rowid the full-text index points at.
        CREATE TABLE logs (
            id INTEGER PRIMARY KEY,
            node_id TEXT NOT NULL,
            stream_key TEXT NOT NULL,
            seq INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            level INTEGER NOT NULL,
            text TEXT NOT NULL
        ) STRICT;
        CREATE UNIQUE INDEX logs_identity ON logs(node_id, stream_key, seq);
        CREATE INDEX logs_ts ON logs(ts);
        CREATE INDEX logs_node_ts ON logs(node_id, ts);

        -- External-content FTS5 index over logs.text, kept in step by triggers (so
        -- INSERT ... DO NOTHING indexes only the rows it inserts, and retention's
        -- DELETE removes them). remove_diacritics 0 matches PostgreSQL's 'simple'.
        -- Searches are ANDs of plain words (FullTextQuery), never phrases, NEAR or ranking,
        -- so the index keeps no positions or column sizes (detail=none, columnsize=0):
        -- about 15 % more rows a second on the single writer, and a smaller file.
        CREATE VIRTUAL TABLE logs_fts USING fts5(
            text, content = 'logs', content_rowid = 'id',
            tokenize = 'unicode61 remove_diacritics 0', detail = none, columnsize = 0
        );
        CREATE TRIGGER logs_fts_insert AFTER INSERT ON logs BEGIN
            INSERT INTO logs_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER logs_fts_delete AFTER DELETE ON logs BEGIN
            INSERT INTO logs_fts(logs_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;

        CREATE TABLE rollups (
            node_id TEXT NOT NULL,
            name TEXT NOT NULL,
            resolution INTEGER NOT NULL,
            bucket INTEGER NOT NULL,
            min REAL NOT NULL,
            max REAL NOT NULL,
            sum REAL NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (node_id, name, resolution, bucket)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX rollups_retention ON rollups(resolution, bucket);

        -- AUTOINCREMENT: audit ids are never reused, even after deletions.
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL
        ) STRICT;
        CREATE INDEX audit_at ON audit(at);
        CREATE INDEX audit_actor_at ON audit(actor, at);

        CREATE TABLE commands (
            id TEXT PRIMARY KEY,
            actor TEXT NOT NULL,
            command_line TEXT NOT NULL,
            targets TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            timeout_ms INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX commands_created ON commands(created_at);

        -- A rowid table: outputs can be large, which WITHOUT ROWID handles badly.
        CREATE TABLE command_results (
            command_id TEXT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
            node_id TEXT NOT NULL,
            exit_code INTEGER,
            signal INTEGER,
            reason TEXT NOT NULL,
            duration_ms INTEGER NOT NULL,
            stdout BLOB NOT NULL,
            stderr BLOB NOT NULL,
            finished_at INTEGER NOT NULL,
            UNIQUE (command_id, node_id)
        ) STRICT;

        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT, WITHOUT ROWID;
        """,
        // 2: the per-node log indexes become side tables filled in bulk (SQLiteLogIndex):
        // kept row by row they cost a page write per node per commit.
        """
        CREATE TABLE log_ident (
            node_id TEXT NOT NULL,
            stream_key TEXT NOT NULL,
            seq INTEGER NOT NULL,
            id INTEGER NOT NULL,
            PRIMARY KEY (node_id, stream_key, seq)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE log_node_ts (
            node_id TEXT NOT NULL,
            ts INTEGER NOT NULL,
            id INTEGER NOT NULL,
            PRIMARY KEY (node_id, ts, id)
        ) STRICT, WITHOUT ROWID;
        -- One row: the highest logs.id the two tables above cover, and the pass under way
        -- (its last logs.id, and the last node id its steps have indexed).
        CREATE TABLE log_index_state (indexed_to INTEGER NOT NULL, pass_to INTEGER, pass_after TEXT) STRICT;
        INSERT INTO log_ident (node_id, stream_key, seq, id)
            SELECT node_id, stream_key, seq, id FROM logs ORDER BY node_id, stream_key, seq;
        INSERT INTO log_node_ts (node_id, ts, id) SELECT node_id, ts, id FROM logs ORDER BY node_id, ts, id;
        INSERT INTO log_index_state (indexed_to) SELECT coalesce(max(id), 0) FROM logs;
        DROP INDEX logs_identity;
        DROP INDEX logs_node_ts;
        -- Deleting a row (retention, a deleted node) takes its side entries with it.
        CREATE TRIGGER logs_index_delete AFTER DELETE ON logs BEGIN
            DELETE FROM log_ident WHERE node_id = old.node_id AND stream_key = old.stream_key AND seq = old.seq AND id = old.id;
            DELETE FROM log_node_ts WHERE node_id = old.node_id AND ts = old.ts AND id = old.id;
        END;
        """,
        // 3: roll-ups packed per node and bucket, keyed by time (SQLiteRollups): a row per
        // node and metric under a node-first key cost a page write per node per flush.
        // The rows are packed by `dataSteps[3]`, which also drops the old table.
        """
        CREATE TABLE rollup_names (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            node_id TEXT NOT NULL,
            name TEXT NOT NULL,
            UNIQUE (node_id, name)
        ) STRICT;
        CREATE TABLE rollup_buckets (
            id INTEGER PRIMARY KEY,
            resolution INTEGER NOT NULL,
            bucket INTEGER NOT NULL,
            node_id TEXT NOT NULL,
            data BLOB NOT NULL,
            UNIQUE (resolution, bucket, node_id)
        ) STRICT;
        INSERT INTO rollup_names (node_id, name) SELECT DISTINCT node_id, name FROM rollups ORDER BY node_id, name;
        """,
        // 4: log_marks is written once a second rather than in every ingest commit
        // (LogMarkLedger). One row: every stored row with an id at or below saved_through
        // has its mark in log_marks; marks of the rows above are rebuilt from the rows at
        // open. Until now every commit wrote its marks, so all rows are covered.
        """
        CREATE TABLE log_marks_state (saved_through INTEGER NOT NULL) STRICT;
        INSERT INTO log_marks_state (saved_through) SELECT coalesce(max(id), 0) FROM logs;
        """,
    ]

    /// Work of a migration that SQL cannot do, run after its SQL in the same transaction.
    static let dataSteps: [Int: @Sendable (SQLiteConnection) throws(StoreError) -> Void] = [
        3: { connection throws(StoreError) in try SQLiteRollups.packSchema1Rows(connection) },
    ]

    static func migrate(_ connection: SQLiteConnection, upTo target: Int = migrations.count) throws(StoreError) {
        try connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT")
        let current = try connection.firstRow("SELECT coalesce(max(version), 0) FROM schema_version") { $0.int(0) } ?? 0
        if current > Self.migrations.count {
            throw StoreError(
                code: .incompatibleSchema,
                message: "the database has schema version \(current); this build knows up to \(Self.migrations.count)"
            )
        }
        for version in (current + 1)..<(max(current, target) + 1) {
            try connection.writeTransaction(.full) { () throws(StoreError) in
                try connection.execute(Self.migrations[version - 1])
                try Self.dataSteps[version]?(connection)
                try connection.run("INSERT INTO schema_version (version) VALUES (?)") { statement throws(StoreError) in
                    try statement.bind(version, at: 1)
                }
            }
        }
    }
}
