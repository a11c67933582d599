import CSQLite

/// One SQLite connection (`sqlite3 *`) with its cache of prepared statements.
///
/// We wrap the C API ourselves rather than use GRDB or SQLiteNIO so the ingest path
/// keeps full control: multi-row INSERT statements prepared once per row count and
/// reused, explicit transaction boundaries and `synchronous` per transaction, and no
/// per-row allocation or event-loop hop between the store and SQLite.
///
/// Not thread-safe, and opened with SQLITE_OPEN_NOMUTEX accordingly: `SQLiteDatabase`
/// hands a connection to one pool thread at a time, which is what makes the
/// `@unchecked Sendable` true.
final class SQLiteConnection: @unchecked Sendable {
    enum Mode {
        case readWrite
        case readOnly
    }

    /// `PRAGMA synchronous` for the next write transaction.
    enum Durability {
        /// FULL: the WAL is fsynced at every COMMIT, so a committed transaction
        /// survives a power cut. Used for everything a client is told is stored.
        case full
        /// NORMAL: fsync only at checkpoints; a power cut may lose the last commits but
        /// never corrupts. Used for soft state (last-seen times, roll-ups) that the
        /// next report replaces.
        case normal
    }

    private var handle: OpaquePointer?
    private var cache: [String: SQLiteStatement] = [:]
    private var durability: Durability?
    let path: String

    init(path: String, mode: Mode) throws(StoreError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = (mode == .readWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            let code = handle.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(handle)
            throw SQLiteFailure(code: code, message: message, context: "open \(mode)").storeError
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        self.close()
    }

    /// Finalizes every statement and closes. Idempotent.
    func close() {
        self.cache.removeAll()
        if let handle = self.handle {
            sqlite3_close_v2(handle)
            self.handle = nil
        }
    }

    private func database() throws(StoreError) -> OpaquePointer {
        guard let handle = self.handle else { throw StoreError.closed() }
        return handle
    }

    // MARK: Statements

    /// Runs SQL text that may hold several statements and returns no rows (DDL, pragmas).
    func execute(_ sql: String) throws(StoreError) {
        let database = try self.database()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(database, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errorMessage)
            throw SQLiteFailure(code: sqlite3_extended_errcode(database), message: message, context: Self.context(sql)).storeError
        }
    }

    /// The cached prepared statement for `sql`, preparing it on first use. For SQL
    /// whose text is fixed (or drawn from a small set, like the per-row-count inserts).
    func cached(_ sql: String) throws(StoreError) -> SQLiteStatement {
        if let statement = self.cache[sql] {
            return statement
        }
        let statement = try self.prepare(sql, persistent: true)
        self.cache[sql] = statement
        return statement
    }

    /// A new statement, not cached: for SQL built per call (search filters).
    func prepare(_ sql: String, persistent: Bool = false) throws(StoreError) -> SQLiteStatement {
        let database = try self.database()
        var statement: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sqlite3_prepare_v3(database, sql, -1, flags, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteFailure(
                code: sqlite3_extended_errcode(database),
                message: String(cString: sqlite3_errmsg(database)),
                context: Self.context(sql)
            ).storeError
        }
        return SQLiteStatement(handle: statement, sql: Self.context(sql))
    }

    /// Runs a cached statement that returns no rows; returns the rows it changed.
    @discardableResult
    func run(_ sql: String, _ bind: (SQLiteStatement) throws(StoreError) -> Void = { _ in }) throws(StoreError) -> Int {
        let statement = try self.cached(sql)
        defer { statement.reset() }
        try bind(statement)
        try statement.run()
        return self.changes
    }

    /// Runs a cached statement and maps every row.
    func rows<Row>(
        _ sql: String,
        _ bind: (SQLiteStatement) throws(StoreError) -> Void = { _ in },
        row: (SQLiteStatement) throws(StoreError) -> Row
    ) throws(StoreError) -> [Row] {
        let statement = try self.cached(sql)
        defer { statement.reset() }
        try bind(statement)
        var rows: [Row] = []
        while try statement.step() {
            rows.append(try row(statement))
        }
        return rows
    }

    /// Runs a cached statement and maps its first row, if any.
    func firstRow<Row>(
        _ sql: String,
        _ bind: (SQLiteStatement) throws(StoreError) -> Void = { _ in },
        row: (SQLiteStatement) throws(StoreError) -> Row
    ) throws(StoreError) -> Row? {
        let statement = try self.cached(sql)
        defer { statement.reset() }
        try bind(statement)
        guard try statement.step() else { return nil }
        return try row(statement)
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE (not counting trigger work).
    var changes: Int {
        self.handle.map { Int(sqlite3_changes($0)) } ?? 0
    }

    var lastInsertRowID: Int64 {
        self.handle.map { sqlite3_last_insert_rowid($0) } ?? 0
    }

    /// A PASSIVE checkpoint: copies as many committed WAL frames into the database file
    /// as no reader still needs, without waiting for readers or the writer. Returns the
    /// frames in the WAL and how many of them are now in the file.
    func checkpointPassive() throws(StoreError) -> (walFrames: Int, copied: Int) {
        let database = try self.database()
        var frames: Int32 = 0
        var copied: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(database, nil, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied)
        // BUSY: another checkpoint (the writer's fallback) holds the lock; try again later.
        guard rc == SQLITE_OK || rc == SQLITE_BUSY else {
            throw SQLiteFailure(code: sqlite3_extended_errcode(database), message: String(cString: sqlite3_errmsg(database)), context: "wal_checkpoint").storeError
        }
        return (Int(max(0, frames)), Int(max(0, copied)))
    }

    // MARK: Transactions

    /// Runs `body` in a write transaction. BEGIN IMMEDIATE takes the write lock up
    /// front, so a transaction never fails halfway on a lock upgrade.
    func writeTransaction<T>(_ durability: Durability, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        if self.durability != durability {
            try self.execute(durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            self.durability = durability
        }
        return try self.transaction(begin: "BEGIN IMMEDIATE", body)
    }

    /// Runs `body` in a read transaction, so several statements see one snapshot.
    func readTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try self.transaction(begin: "BEGIN", body)
    }

    private func transaction<T>(begin: String, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try self.run(begin)
        do {
            let value = try body()
            try self.run("COMMIT")
            return value
        } catch {
            // After a failed COMMIT SQLite may have rolled back already; a second
            // ROLLBACK then errors harmlessly.
            if let handle = self.handle, sqlite3_get_autocommit(handle) == 0 {
                _ = try? self.run("ROLLBACK")
            }
            throw error
        }
    }

    private static func context(_ sql: String) -> String {
        // Multi-row inserts are long and repetitive; their start says what they are.
        sql.count > 200 ? String(sql.prefix(200)) + "…" : sql
    }
}
