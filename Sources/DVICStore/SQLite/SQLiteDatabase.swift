import CSQLite
import NIOPosix
import Synchronization

/// Runs SQLite work off Swift's cooperative pool.
///
/// SQLite calls block (disk I/O, fsync at COMMIT, busy waits), and a blocked
/// cooperative thread stalls unrelated tasks, so every call runs on threads of our
/// own: one writer connection on a single-thread `NIOThreadPool` (SQLite allows one
/// writer at a time anyway, and a single thread serializes writes without lock
/// contention; `WriteLanes` orders the waiting ones), and `readerCount` read-only
/// connections on a pool of as many threads (WAL lets them read while the writer writes).
///
/// WAL frames are copied into the file by a connection of their own on a thread of its
/// own (`checkpointLoop`), not by the writer at COMMIT. SQLite's automatic checkpoint runs
/// inside the COMMIT that crosses its threshold: with a 10,000-node fleet nearly every
/// ingest write crossed it and spent a third of its time copying and fsyncing pages
/// while the next batches waited. The writer keeps a high threshold as a fallback for
/// when the loop does not run (a store nobody calls `run()` on) or falls behind.
final class SQLiteDatabase: Sendable {
    let path: String
    let lifecycle = StoreLifecycle(ready: true)
    private let writerPool: NIOThreadPool
    private let readerPool: NIOThreadPool
    private let checkpointPool: NIOThreadPool
    private let checkpointer: SQLiteConnection
    private let writer: SQLiteConnection
    /// Idle reader connections. There are as many as reader threads, so a job always
    /// finds one.
    private let idleReaders: Mutex<[SQLiteConnection]>
    private let allReaders: [SQLiteConnection]
    /// Writes waiting for the writer thread (`write`).
    private let lanes = Mutex(WriteLanes<WriteJob>())

    /// Writes queued and not yet started.
    var waitingWrites: Int { self.lanes.withLock { $0.count } }

    private init(
        path: String, writerPool: NIOThreadPool, readerPool: NIOThreadPool, checkpointPool: NIOThreadPool,
        writer: SQLiteConnection, checkpointer: SQLiteConnection, readers: [SQLiteConnection]
    ) {
        self.path = path
        self.writerPool = writerPool
        self.readerPool = readerPool
        self.checkpointPool = checkpointPool
        self.checkpointer = checkpointer
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
        let checkpointPool = NIOThreadPool(numberOfThreads: 1)
        writerPool.start()
        readerPool.start()
        checkpointPool.start()

        let opened: Result<(SQLiteConnection, SQLiteConnection, [SQLiteConnection]), StoreError>
        do {
            // Both background threads yield to the event loops (`BackgroundPriority`).
            try await checkpointPool.runIfActive { BackgroundPriority.lowerCallingThread() }
            opened = try await writerPool.runIfActive {
                Result { () throws(StoreError) -> (SQLiteConnection, SQLiteConnection, [SQLiteConnection]) in
                    BackgroundPriority.lowerCallingThread()
                    let writer = try SQLiteConnection(path: path, mode: .readWrite)
                    do throws(StoreError) {
                        try Self.configureWriter(writer)
                        try SQLiteSchema.migrate(writer)
                        try SQLiteLogIndex.createStagingTables(writer)
                        var readers: [SQLiteConnection] = []
                        for _ in 0..<readerCount {
                            let reader = try SQLiteConnection(path: path, mode: .readOnly)
                            try Self.configureReader(reader)
                            readers.append(reader)
                        }
                        let checkpointer = try SQLiteConnection(path: path, mode: .readWrite)
                        try checkpointer.execute("PRAGMA busy_timeout = 0; PRAGMA synchronous = FULL")
                        return (writer, checkpointer, readers)
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
        case .success(let (writer, checkpointer, readers)):
            return SQLiteDatabase(
                path: path, writerPool: writerPool, readerPool: readerPool, checkpointPool: checkpointPool,
                writer: writer, checkpointer: checkpointer, readers: readers)
        case .failure(let error):
            try? await writerPool.shutdownGracefully()
            try? await readerPool.shutdownGracefully()
            try? await checkpointPool.shutdownGracefully()
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
            PRAGMA wal_autocheckpoint = \(Self.fallbackCheckpointFrames);
            """
        )
        // No integrity check here: PRAGMA quick_check reads every page, which would
        // make opening a multi-gigabyte log database take minutes. Damage elsewhere
        // surfaces as `.corrupt` from the query that meets it.
    }

    /// WAL frames (4 KiB pages) after which the writer checkpoints at COMMIT itself: 32 MiB,
    /// against 1,000 by default, since `checkpointLoop` normally does it.
    static let fallbackCheckpointFrames = 8192

    /// The nice values of the writer, checkpointer and a reader thread (for tests of
    /// `BackgroundPriority`); nil where they cannot be read.
    func threadNiceValues() async -> (writer: Int32?, checkpointer: Int32?, reader: Int32?) {
        let writer = try? await self.writerPool.runIfActive { BackgroundPriority.callingThreadNice() }
        let checkpointer = try? await self.checkpointPool.runIfActive { BackgroundPriority.callingThreadNice() }
        let reader = try? await self.readerPool.runIfActive { BackgroundPriority.callingThreadNice() }
        return (writer ?? nil, checkpointer ?? nil, reader ?? nil)
    }

    /// Copies committed WAL frames into the file on the checkpoint thread until the
    /// database closes: every 100 ms, sooner while frames are left over. A failure is
    /// returned to the caller's loop as a pause, never thrown: the writer's fallback still
    /// checkpoints.
    func checkpointLoop() async {
        let checkpointer = self.checkpointer
        while !self.lifecycle.isClosed, !Task.isCancelled {
            let behind = try? await self.checkpointPool.runIfActive { () -> Bool in
                guard let (frames, copied) = try? checkpointer.checkpointPassive() else { return false }
                return copied < frames
            }
            try? await Task.sleep(for: behind == true ? .milliseconds(20) : .milliseconds(100))
        }
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

    /// A write waiting in `lanes`: runs on the writer thread with the writer, or is told
    /// with nil that it will not run (the pool is shutting down).
    typealias WriteJob = @Sendable (SQLiteConnection?) -> Void

    /// Runs `body` in one write transaction on the writer thread; returns after COMMIT.
    /// `lane` orders it among the waiting writes (`WriteLanes`): bulk writes go last.
    ///
    /// `committed` runs on the writer thread right after the COMMIT succeeded, before any
    /// later write starts: where a cache of what the database holds is brought up to date,
    /// never ahead of it (a rolled-back write skips it) nor behind it for the next write.
    @discardableResult
    func write<T: Sendable>(
        _ durability: SQLiteConnection.Durability = .full,
        lane: WriteLanes<WriteJob>.Lane = .prompt,
        _ body: @escaping @Sendable (SQLiteConnection) throws(StoreError) -> T,
        committed: (@Sendable (T) -> Void)? = nil
    ) async throws(StoreError) -> T {
        try self.lifecycle.checkReady()
        // As before lanes: a task cancelled before its write started gets nothing written.
        if Task.isCancelled {
            throw StoreError(code: .cancelled, message: "the calling task was cancelled before the work started", cause: CancellationError())
        }
        let outcome: Result<T, StoreError> = await withCheckedContinuation { continuation in
            let job: WriteJob = { writer in
                guard let writer else {
                    continuation.resume(returning: .failure(.closed(cause: CancellationError())))
                    return
                }
                continuation.resume(returning: Result { () throws(StoreError) -> T in
                    let value = try writer.writeTransaction(durability) { () throws(StoreError) -> T in try body(writer) }
                    committed?(value)
                    return value
                })
            }
            self.lanes.withLock { $0.push(job, lane: lane) }
            // One pool item per job, each running whichever job is next: the pool stays the
            // only thread that touches the writer, and a cancelled item (shutdown) fails one.
            self.writerPool.submit { [self] state in
                guard let next = self.lanes.withLock({ $0.pop() }) else { return }
                next(state == .active ? self.writer : nil)
            }
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
        try? await self.checkpointPool.shutdownGracefully()
        try? await self.writerPool.shutdownGracefully()
        for reader in self.allReaders {
            reader.close()
        }
        self.checkpointer.close()
        writer.close()
    }
}
