import Synchronization
/// The embedded store: one SQLite file in WAL mode (plus its -wal and -shm files).
///
/// Durability: every write is one transaction committed with `synchronous = FULL`
/// (the WAL is fsynced before COMMIT returns), except last-seen times and roll-ups,
/// which use NORMAL (see `SQLiteConnection.Durability`). The log ingest path stays fast
/// anyway because each `appendLogs` call is one transaction of multi-row INSERTs, so
/// one fsync covers thousands of rows.
///
/// The file is created with its schema when missing; migrations run at open.
///
/// Call `close()` before letting go of the store: its threads keep running until then.
public final class SQLiteFleetStore: FleetStore {
    /// Rows per INSERT statement on the batched paths. 200 rows × 6 columns stays far
    /// below SQLite's 32,766 bound parameters; 100–500 rows per statement all measure
    /// about the same, against a quarter of that for one statement per row.
    static let rowsPerStatement = 200

    let database: SQLiteDatabase
    /// Unindexed log rows that trigger a side-index pass (`SQLiteLogIndex`).
    let logIndexBatch: Int64
    /// The node plan of the side-index pass under way, a cache (`LogIndexPass`); its
    /// progress is in the database. Only the writer thread uses it.
    let logIndexPlan = Mutex<LogIndexPass?>(nil)
    /// Each stream's mark as last committed, so that an ingest write reads no mark it
    /// wrote itself: updated on the writer thread right after each commit
    /// (`SQLiteDatabase.write`'s `committed`), so it is never behind the rows when a write
    /// reads it. A mark too low would let a replayed row in twice; one missing is read
    /// from `logMarkLedger`, then from `log_marks`.
    let logMarks = Mutex<[LogStreamID: Int64]>([:])
    /// The committed marks not yet written to `log_marks` (`LogMarkLedger`).
    let logMarkLedger: Mutex<LogMarkLedger>
    /// The metric name ids the writer knows, a cache (`SQLiteRollups.NameIDs`).
    let rollupNames = Mutex<SQLiteRollups.NameIDs>([:])

    /// The database file's path.
    public var path: String { self.database.path }

    /// Opens the database at `path`, creating the file (not its directory) and schema
    /// if missing. Throws `.unavailable` when the file cannot be opened or written,
    /// `.corrupt` when it is not a database, `.incompatibleSchema` when newer
    /// software wrote it.
    ///
    /// - Parameters:
    ///   - readerCount: read connections (and threads) next to the single writer.
    ///   - logIndexBatch: unindexed log rows that trigger a pass of the per-node side
    ///     index (`SQLiteLogIndex.batch`); tests make it tiny so every query meets both
    ///     the indexed rows and the unindexed tail.
    ///   - logMarksInterval: how long stream marks may wait before an ingest commit
    ///     writes them to `log_marks` (`LogMarkLedger`); tests make it zero or very long.
    public init(
        path: String, readerCount: Int = 2, logIndexBatch: Int64 = SQLiteLogIndex.batch,
        logMarksInterval: Duration = .seconds(1)
    ) async throws(StoreError) {
        self.database = try await SQLiteDatabase.open(path: path, readerCount: readerCount)
        self.logIndexBatch = max(1, logIndexBatch)
        self.logMarkLedger = Mutex(LogMarkLedger(interval: logMarksInterval, now: .now))
        do {
            try await self.recoverLogMarks()
        } catch {
            await self.database.close()
            throw error
        }
    }

    /// Makes a database file at an older schema version and runs `sql` on it, so tests
    /// can check what a migration does with existing data.
    @_spi(Testing)
    public static func makeDatabase(path: String, schemaVersion: Int, then sql: String) throws(StoreError) {
        let connection = try SQLiteConnection(path: path, mode: .readWrite)
        defer { connection.close() }
        try connection.execute("PRAGMA journal_mode = WAL")
        try SQLiteSchema.migrate(connection, upTo: schemaVersion)
        try connection.execute(sql)
    }

    /// Checkpoints the WAL in the background (`SQLiteDatabase.checkpointLoop`) until closed.
    public func run() async throws(StoreError) {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.database.checkpointLoop() }
            await self.database.lifecycle.waitUntilClosed()
            group.cancelAll()
        }
    }

    public func close() async {
        await self.database.close()
    }

    // MARK: Users

    public func createUser(_ user: UserRecord) async throws(StoreError) {
        try await self.database.write { connection throws(StoreError) in
            try connection.run(
                "INSERT INTO users (id, username, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)"
            ) { statement throws(StoreError) in
                try statement.bind(user.id, at: 1)
                try statement.bind(user.username, at: 2)
                try statement.bind(user.passwordHash, at: 3)
                try statement.bind(user.role, at: 4)
                try statement.bind(user.createdAt, at: 5)
            }
        }
    }

    public func user(named username: String) async throws(StoreError) -> UserRecord? {
        try await self.database.read { connection throws(StoreError) in
            try connection.firstRow(
                "SELECT id, username, password_hash, role, created_at FROM users WHERE username = ?",
                { statement throws(StoreError) in try statement.bind(username, at: 1) },
                row: Self.user(from:)
            )
        }
    }

    public func user(id: String) async throws(StoreError) -> UserRecord? {
        try await self.database.read { connection throws(StoreError) in
            try connection.firstRow(
                "SELECT id, username, password_hash, role, created_at FROM users WHERE id = ?",
                { statement throws(StoreError) in try statement.bind(id, at: 1) },
                row: Self.user(from:)
            )
        }
    }

    public func users() async throws(StoreError) -> [UserRecord] {
        try await self.database.read { connection throws(StoreError) in
            try connection.rows("SELECT id, username, password_hash, role, created_at FROM users ORDER BY username", row: Self.user(from:))
        }
    }

    public func updateUser(_ user: UserRecord) async throws(StoreError) {
        let changed = try await self.database.write { connection throws(StoreError) in
            try connection.run("UPDATE users SET username = ?, password_hash = ?, role = ? WHERE id = ?") { statement throws(StoreError) in
                try statement.bind(user.username, at: 1)
                try statement.bind(user.passwordHash, at: 2)
                try statement.bind(user.role, at: 3)
                try statement.bind(user.id, at: 4)
            }
        }
        if changed == 0 {
            throw .notFound("no user with this id")
        }
    }

    public func deleteUser(id: String) async throws(StoreError) -> Bool {
        try await self.database.write { connection throws(StoreError) in
            try connection.run("DELETE FROM users WHERE id = ?") { statement throws(StoreError) in try statement.bind(id, at: 1) } > 0
        }
    }

    private static func user(from statement: SQLiteStatement) -> UserRecord {
        UserRecord(
            id: statement.string(0),
            username: statement.string(1),
            passwordHash: statement.string(2),
            role: statement.string(3),
            createdAt: statement.int64(4)
        )
    }

    // MARK: Sessions

    public func saveSession(_ session: SessionRecord) async throws(StoreError) {
        try await self.database.write { connection throws(StoreError) in
            try connection.run(
                "INSERT OR REPLACE INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)"
            ) { statement throws(StoreError) in
                try statement.bind(session.tokenHash, at: 1)
                try statement.bind(session.userID, at: 2)
                try statement.bind(session.createdAt, at: 3)
                try statement.bind(session.expiresAt, at: 4)
            }
        }
    }

    public func session(tokenHash: [UInt8]) async throws(StoreError) -> SessionRecord? {
        try await self.database.read { connection throws(StoreError) in
            try connection.firstRow(
                """
                SELECT s.token_hash, s.user_id, u.username, u.role, s.created_at, s.expires_at
                FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?
                """,
                { statement throws(StoreError) in try statement.bind(tokenHash, at: 1) }
            ) { statement in
                SessionRecord(
                    tokenHash: statement.blob(0),
                    userID: statement.string(1),
                    username: statement.string(2),
                    role: statement.string(3),
                    createdAt: statement.int64(4),
                    expiresAt: statement.int64(5)
                )
            }
        }
    }

    public func deleteSession(tokenHash: [UInt8]) async throws(StoreError) -> Bool {
        try await self.database.write { connection throws(StoreError) in
            try connection.run("DELETE FROM sessions WHERE token_hash = ?") { statement throws(StoreError) in
                try statement.bind(tokenHash, at: 1)
            } > 0
        }
    }

    public func pruneSessions(now: Int64) async throws(StoreError) -> Int {
        try await self.database.write { connection throws(StoreError) in
            try connection.run("DELETE FROM sessions WHERE expires_at <= ?") { statement throws(StoreError) in
                try statement.bind(now, at: 1)
            }
        }
    }

    // MARK: Settings

    public func setting(_ key: String) async throws(StoreError) -> String? {
        try await self.database.read { connection throws(StoreError) in
            try connection.firstRow(
                "SELECT value FROM settings WHERE key = ?",
                { statement throws(StoreError) in try statement.bind(key, at: 1) }
            ) { $0.string(0) }
        }
    }

    public func setSetting(_ key: String, _ value: String) async throws(StoreError) {
        try await self.database.write { connection throws(StoreError) in
            try connection.run(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ) { statement throws(StoreError) in
                try statement.bind(key, at: 1)
                try statement.bind(value, at: 2)
            }
        }
    }
}
