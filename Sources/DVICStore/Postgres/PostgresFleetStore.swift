public import Logging
import NIOCore
import PostgresNIO

/// The store on a PostgreSQL server, through postgres-nio's `PostgresClient`.
///
/// Lifecycle: the client's connection pool works only while `run()` runs, so the
/// owner runs the store like a `ServiceLifecycle.Service` (see `FleetStore.run()`):
/// `run()` starts the pool, applies the migrations, and then serves until `close()`
/// or cancellation. Calls made before migrations finish wait for them; calls after
/// `close()` throw `.closed`. `init` only parses and configures, it connects to
/// nothing.
///
/// Same semantics as `SQLiteFleetStore`: every write is one transaction, committed
/// (with the server's `synchronous_commit`, on by default) before the call returns;
/// last-seen times, roll-ups and retention use `SET LOCAL synchronous_commit = off`,
/// the counterpart of SQLite's NORMAL.
public final class PostgresFleetStore: FleetStore {
    /// Rows per statement on the batched paths: every column travels as one array
    /// parameter and `unnest` turns them back into rows, so the statement text and
    /// its parameter count stay fixed whatever the batch size.
    static let rowsPerStatement = 5_000

    let client: PostgresClient
    let lifecycle = StoreLifecycle(ready: false)
    let logger: Logger
    /// The schema the tables live in (`search_path`), or nil for the user's default.
    public let schema: String?
    /// How long `run()` waits for the server to answer and the migrations to finish.
    let startupTimeout: Duration

    /// - Parameters:
    ///   - url: `postgres://user:password@host:port/database` (or `postgresql://`).
    ///   - schema: A schema to keep the tables in, created if missing; lowercase
    ///     letters, digits and `_`. nil uses the connection's default (`public`).
    ///   - maximumConnections: The pool's size.
    ///   - startupTimeout: `run()` throws `.unavailable` when the server cannot be
    ///     reached (or migrations cannot finish) within this time. Later, while
    ///     running, calls wait for a connection as long as it takes (the pool keeps
    ///     reconnecting), which is back-pressure on the callers; cancelling the
    ///     calling task ends the wait.
    ///   - logger: For the client's background events.
    public init(
        url: String,
        schema: String? = nil,
        maximumConnections: Int = 20,
        startupTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "dvic.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(StoreError) {
        let parsed = try PostgresConnectionURL(url)
        if let schema {
            guard Self.isPlainIdentifier(schema) else {
                throw .invalidArgument("schema names are 1-63 of a-z, 0-9 and _, not starting with a digit")
            }
        }
        var configuration = PostgresClient.Configuration(
            host: parsed.host,
            port: parsed.port,
            username: parsed.username,
            password: parsed.password,
            database: parsed.database,
            tls: .disable
        )
        configuration.options.maximumConnections = max(1, maximumConnections)
        configuration.options.connectTimeout = .seconds(10)
        if let schema {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.schema = schema
        self.startupTimeout = startupTimeout
        self.logger = logger
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }

    public func run() async throws(StoreError) {
        guard self.lifecycle.claimRun() else {
            throw .invalidArgument("run() was called twice on the same PostgresFleetStore")
        }
        let client = self.client
        let outcome: Result<Void, StoreError> = await withDiscardingTaskGroup { group in
            group.addTask {
                await client.run()
            }
            do throws(StoreError) {
                try await self.migrateWithinDeadline()
                self.lifecycle.markReady()
            } catch {
                self.lifecycle.markFailed(error)
                group.cancelAll()
                return .failure(error)
            }
            await self.lifecycle.waitUntilClosed()
            // close() or cancellation: let calls in flight finish, then stop the pool.
            self.lifecycle.markClosed()
            await self.lifecycle.waitUntilIdle()
            group.cancelAll()
            return .success(())
        }
        try outcome.get()
    }

    public func close() async {
        self.lifecycle.markClosed()
        await self.lifecycle.waitUntilIdle()
    }

    /// `migrate()`, or `.unavailable` once `startupTimeout` has passed: the pool
    /// retries connecting forever and would otherwise leave `run()` silent.
    private func migrateWithinDeadline() async throws(StoreError) {
        let timeout = self.startupTimeout
        let outcome = await withTaskGroup(of: Result<Void, StoreError>?.self) { group in
            group.addTask {
                do throws(StoreError) {
                    try await self.migrate()
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                if Task.isCancelled { return nil }
                return .failure(.unavailable("PostgreSQL did not answer (or migrations did not finish) within \(timeout)"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(StoreError(code: .cancelled, message: "run() was cancelled during start-up"))
        }
        try outcome.get()
    }

    /// Applies missing migrations in one transaction. The table lock serializes
    /// servers that start at once against the same database.
    private func migrate() async throws(StoreError) {
        let schema = self.schema
        do {
            if let schema {
                try await self.client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: self.logger)
            }
            try await self.client.query("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", logger: self.logger)
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await connection.query("LOCK TABLE schema_version IN EXCLUSIVE MODE", logger: self.logger)
                var current = 0
                for try await version in try await connection.query("SELECT coalesce(max(version), 0) FROM schema_version", logger: self.logger)
                    .decode(Int.self)
                {
                    current = version
                }
                if current > PostgresSchema.migrations.count {
                    throw StoreError(
                        code: .incompatibleSchema,
                        message: "the database has schema version \(current); this build knows up to \(PostgresSchema.migrations.count)"
                    )
                }
                for version in (current + 1)..<(PostgresSchema.migrations.count + 1) {
                    for statement in PostgresSchema.migrations[version - 1] {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                    }
                    try await connection.query("INSERT INTO schema_version (version) VALUES (\(version))", logger: self.logger)
                }
            }
        } catch {
            throw StoreError(postgres: error, context: "migrating the PostgreSQL schema")
        }
    }

    /// Runs one store call: waits for readiness, counts the call in flight, and maps
    /// errors.
    @discardableResult
    func perform<T>(_ context: String, _ body: (PostgresClient) async throws -> T) async throws(StoreError) -> T {
        try await self.lifecycle.waitUntilReady()
        try self.lifecycle.enter()
        defer { self.lifecycle.leave() }
        do {
            return try await body(self.client)
        } catch {
            throw StoreError(postgres: error, context: context)
        }
    }

    /// `perform` inside one transaction.
    @discardableResult
    func transaction<T>(_ context: String, _ body: (PostgresConnection) async throws -> sending T) async throws(StoreError) -> sending T {
        try await self.lifecycle.waitUntilReady()
        try self.lifecycle.enter()
        defer { self.lifecycle.leave() }
        do {
            return try await self.client.withTransaction(logger: self.logger, body)
        } catch {
            throw StoreError(postgres: error, context: context)
        }
    }

    /// Test support: drops the store's schema with everything in it.
    @_spi(Testing)
    public func dropSchema() async throws(StoreError) {
        guard let schema = self.schema else { return }
        try await self.perform("dropping the schema") { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(schema) CASCADE"), logger: self.logger)
        }
    }

    // MARK: Users

    public func createUser(_ user: UserRecord) async throws(StoreError) {
        try await self.perform("createUser") { client in
            try await client.query(
                """
                INSERT INTO users (id, username, password_hash, role, created_at)
                VALUES (\(user.id), \(user.username), \(user.passwordHash), \(user.role), \(user.createdAt))
                """,
                logger: self.logger
            )
        }
    }

    public func user(named username: String) async throws(StoreError) -> UserRecord? {
        try await self.perform("user(named:)") { client in
            try await Self.users(
                client.query("SELECT id, username, password_hash, role, created_at FROM users WHERE username = \(username)", logger: self.logger)
            ).first
        }
    }

    public func user(id: String) async throws(StoreError) -> UserRecord? {
        try await self.perform("user(id:)") { client in
            try await Self.users(
                client.query("SELECT id, username, password_hash, role, created_at FROM users WHERE id = \(id)", logger: self.logger)
            ).first
        }
    }

    public func users() async throws(StoreError) -> [UserRecord] {
        try await self.perform("users") { client in
            // COLLATE "C": byte order, the same order SQLite gives.
            try await Self.users(
                client.query("SELECT id, username, password_hash, role, created_at FROM users ORDER BY username COLLATE \"C\"", logger: self.logger)
            )
        }
    }

    public func updateUser(_ user: UserRecord) async throws(StoreError) {
        let updated = try await self.perform("updateUser") { client in
            try await Self.count(
                client.query(
                    """
                    WITH changed AS (
                        UPDATE users SET username = \(user.username), password_hash = \(user.passwordHash), role = \(user.role)
                        WHERE id = \(user.id) RETURNING 1
                    ) SELECT count(*) FROM changed
                    """,
                    logger: self.logger
                )
            )
        }
        if updated == 0 {
            throw .notFound("no user with this id")
        }
    }

    public func deleteUser(id: String) async throws(StoreError) -> Bool {
        try await self.perform("deleteUser") { client in
            try await Self.count(
                client.query("WITH gone AS (DELETE FROM users WHERE id = \(id) RETURNING 1) SELECT count(*) FROM gone", logger: self.logger)
            ) > 0
        }
    }

    private static func users(_ rows: PostgresRowSequence) async throws -> [UserRecord] {
        var users: [UserRecord] = []
        for try await (id, username, passwordHash, role, createdAt) in rows.decode((String, String, String, String, Int64).self) {
            users.append(UserRecord(id: id, username: username, passwordHash: passwordHash, role: role, createdAt: createdAt))
        }
        return users
    }

    /// Reads the single `count(*)` of a `WITH … RETURNING 1` query.
    static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var total = 0
        for try await count in rows.decode(Int.self) {
            total += count
        }
        return total
    }

    // MARK: Sessions

    public func saveSession(_ session: SessionRecord) async throws(StoreError) {
        try await self.perform("saveSession") { client in
            try await client.query(
                """
                INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
                VALUES (\(ByteBuffer(bytes: session.tokenHash)), \(session.userID), \(session.createdAt), \(session.expiresAt))
                ON CONFLICT (token_hash) DO UPDATE SET user_id = EXCLUDED.user_id,
                    created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
                """,
                logger: self.logger
            )
        }
    }

    public func session(tokenHash: [UInt8]) async throws(StoreError) -> SessionRecord? {
        try await self.perform("session") { client in
            let rows = try await client.query(
                """
                SELECT s.token_hash, s.user_id, u.username, u.role, s.created_at, s.expires_at
                FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = \(ByteBuffer(bytes: tokenHash))
                """,
                logger: self.logger
            )
            for try await (hash, userID, username, role, createdAt, expiresAt) in rows.decode(
                (ByteBuffer, String, String, String, Int64, Int64).self
            ) {
                return SessionRecord(
                    tokenHash: Array(hash.readableBytesView),
                    userID: userID,
                    username: username,
                    role: role,
                    createdAt: createdAt,
                    expiresAt: expiresAt
                )
            }
            return nil
        }
    }

    public func deleteSession(tokenHash: [UInt8]) async throws(StoreError) -> Bool {
        try await self.perform("deleteSession") { client in
            try await Self.count(
                client.query(
                    "WITH gone AS (DELETE FROM sessions WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) RETURNING 1) SELECT count(*) FROM gone",
                    logger: self.logger
                )
            ) > 0
        }
    }

    public func pruneSessions(now: Int64) async throws(StoreError) -> Int {
        try await self.perform("pruneSessions") { client in
            try await Self.count(
                client.query("WITH gone AS (DELETE FROM sessions WHERE expires_at <= \(now) RETURNING 1) SELECT count(*) FROM gone", logger: self.logger)
            )
        }
    }

    // MARK: Settings

    public func setting(_ key: String) async throws(StoreError) -> String? {
        try await self.perform("setting") { client in
            for try await value in try await client.query("SELECT value FROM settings WHERE key = \(key)", logger: self.logger).decode(String.self) {
                return value
            }
            return nil
        }
    }

    public func setSetting(_ key: String, _ value: String) async throws(StoreError) {
        try await self.perform("setSetting") { client in
            try await client.query(
                "INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                logger: self.logger
            )
        }
    }
}
