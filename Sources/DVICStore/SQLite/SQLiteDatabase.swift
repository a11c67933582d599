import CSQLite
import NIOPosix
import Synchronization

/// Runs SQLite work off Swift's cooperative pool.
///
/// SQLite calls block (disk I/O, fsync at COMMIT, busy waits), and a blocked
/// cooperative thread stalls unrelated tasks, so every call runs on threads of our
/// own: one writer connection on a single-thread `NIOThreadPool` (SQLite allows one
/// writer at a time anyway, and a single queue serializes writes in arrival order
/// without lock contention), and `readerCount` read-only connections on a pool of as
/// many threads (WAL lets them read while the writer writes).
final class SQLiteDatabase: Sendable {
    let path: String
    let lifecycle = StoreLifecycle(ready: true)
    private let writerPool: NIOThreadPool
    private let readerPool: NIOThreadPool
    private let writer: SQLiteConnection
    /// Idle reader connections. There are as many as reader threads, so a job always
    /// finds one.
    private let idleReaders: Mutex<[SQLiteConnection]>
    private let allReaders: [SQLiteConnection]

    private init(path: String, writerPool: NIOThreadPool, readerPool: NIOThreadPool, writer: SQLiteConnection, readers: [SQLiteConnection]) {
        self.path = path
        self.writerPool = writerPool
        self.readerPool = readerPool
        self.writer = writer
        self.allReaders = readers
        self.idleReaders = Mutex(readers)
    }

    /// Opens (creating if needed) the database file, configures it, applies
    /// migrations, and opens the readers.
    static func open(path: String, readerCount: Int) async throws(StoreError) -> SQLiteDatabase {
        _ = Self.processSetup
        let readerCount = max(1, readerCount)
        let writerPool = NIOThreadPool(numberOfThreads: 1)
        let readerPool = NIOThreadPool(numberOfThreads: readerCount)
        writerPool.start()
        readerPool.start()

        let opened: Result<(SQLiteConnection, [SQLiteConnection]), StoreError>
        do {
            opened = try await writerPool.runIfActive {
                Result { () throws(StoreError) -> (SQLiteConnection, [SQLiteConnection]) in
                    let writer = try SQLiteConnection(path: path, mode: .readWrite)
                    do throws(StoreError) {
                        try Self.configureWriter(writer)
                        try SQLiteSchema.migrate(writer)
                        var readers: [SQLiteConnection] = []
                        for _ in 0..<readerCount {
                            let reader = try SQLiteConnection(path: path, mode: .readOnly)
                            try Self.configureReader(reader)
                            readers.append(reader)
                        }
                        return (writer, readers)
                    } catch {
                        writer.close()
                        throw error
                    }
                }
            }
        } catch {
            opened = .failure(StoreError(code: .cancelled, message: "opening the database was cancelled", cause: error))
        }

        switch opened {
        case .success(let (writer, readers)):
            return SQLiteDatabase(path: path, writerPool: writerPool, readerPool: readerPool, writer: writer, readers: readers)
        case .failure(let error):
            try? await writerPool.shutdownGracefully()
            try? await readerPool.shutdownGracefully()
            throw error
        }
    }

    /// Once per process, before the first connection: statistics we never read cost a
    /// global mutex per allocation on the ingest path.
    private static let processSetup: Void = {
        _ = dvic_sqlite_disable_memstatus()
    }()

    private static func configureWriter(_ connection: SQLiteConnection) throws(StoreError) {
        // journal_mode is the first statement that reads the file, so a file that is
        // not a database fails here, as `.corrupt`.
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute(
            """
            PRAGMA busy_timeout = 5000;
            PRAGMA foreign_keys = ON;
            PRAGMA synchronous = FULL;
            PRAGMA temp_store = MEMORY;
            PRAGMA cache_size = -32768;
            """
        )
        // No integrity check here: PRAGMA quick_check reads every page, which would
        // make opening a multi-gigabyte log database take minutes. Damage elsewhere
        // surfaces as `.corrupt` from the query that meets it.
    }

    private static func configureReader(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute(
            """
            PRAGMA busy_timeout = 5000;
            PRAGMA temp_store = MEMORY;
            PRAGMA cache_size = -16384;
            """
        )
    }

    /// Runs `body` in one write transaction on the writer thread; returns after COMMIT.
    @discardableResult
    func write<T: Sendable>(
        _ durability: SQLiteConnection.Durability = .full,
        _ body: @escaping @Sendable (SQLiteConnection) throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        try self.lifecycle.checkReady()
        let writer = self.writer
        let outcome: Result<T, StoreError>
        do {
            outcome = try await self.writerPool.runIfActive {
                Result { () throws(StoreError) -> T in
                    try writer.writeTransaction(durability) { () throws(StoreError) -> T in try body(writer) }
                }
            }
        } catch {
            throw self.notRun(error)
        }
        return try outcome.get()
    }

    /// Runs `body` on the writer thread without a surrounding transaction (for work
    /// that commits in several steps, like chunked retention).
    func writeSteps<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        try self.lifecycle.checkReady()
        let writer = self.writer
        let outcome: Result<T, StoreError>
        do {
            outcome = try await self.writerPool.runIfActive {
                Result { () throws(StoreError) -> T in try body(writer) }
            }
        } catch {
            throw self.notRun(error)
        }
        return try outcome.get()
    }

    /// Runs `body` in one read transaction on a reader thread.
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(StoreError) -> T) async throws(StoreError) -> T {
        try self.lifecycle.checkReady()
        let outcome: Result<T, StoreError>
        do {
            outcome = try await self.readerPool.runIfActive {
                let reader = self.idleReaders.withLock { $0.removeLast() }
                defer { self.idleReaders.withLock { $0.append(reader) } }
                return Result { () throws(StoreError) -> T in
                    try reader.readTransaction { () throws(StoreError) -> T in try body(reader) }
                }
            }
        } catch {
            throw self.notRun(error)
        }
        return try outcome.get()
    }

    /// The pools refuse work only when the calling task was cancelled before the job
    /// started, or when the database is closing; either way nothing ran.
    private func notRun(_ error: any Error) -> StoreError {
        if self.lifecycle.isClosed {
            return .closed(cause: error)
        }
        return StoreError(code: .cancelled, message: "the calling task was cancelled before the work started", cause: error)
    }

    /// Refuses new work, lets the queued and running jobs finish, then closes the
    /// connections (the writer last, so SQLite checkpoints the WAL into the file).
    func close() async {
        guard self.lifecycle.markClosed() else { return }
        let writer = self.writer
        // Best effort: keeps the query planner's statistics fresh for the next start.
        _ = try? await self.writerPool.runIfActive {
            try? writer.execute("PRAGMA optimize")
        }
        try? await self.readerPool.shutdownGracefully()
        try? await self.writerPool.shutdownGracefully()
        for reader in self.allReaders {
            reader.close()
        }
        writer.close()
    }
}
