/// The server's storage: users and sessions, enrollments, nodes, logs, metric
/// roll-ups, the audit trail, commands and settings.
///
/// Two implementations with the same semantics: `SQLiteFleetStore` (embedded, the
/// default) and `PostgresFleetStore`. `FleetStoreFactory.open` picks one from the
/// `--database` URL.
///
/// Conventions:
/// - Every time is Int64 milliseconds since the Unix epoch, UTC. Ranges are
///   `since` inclusive, `until` exclusive.
/// - A write returns only after its transaction committed durably, so an
///   acknowledgement sent after it is never a lie, even across a power cut.
/// - Every method is safe to call concurrently from any task; none blocks a thread
///   of the cooperative pool.
/// - Lifecycle: the owner runs `run()` in a long-lived task (a `ServiceGroup`
///   service; see `run()`), calls the other methods while it runs, and calls
///   `close()` at the end, which also makes `run()` return.
public protocol FleetStore: Sendable {
    /// Does the store's background work until `close()` is called or the task is
    /// cancelled. For PostgreSQL this runs the `PostgresClient` connection pool and
    /// applies schema migrations first; queries wait until then. For SQLite there is
    /// no background work and it only waits, so both can be run the same way:
    ///
    /// ```swift
    /// struct StoreService: Service {          // in the server module (ServiceLifecycle)
    ///     let store: any FleetStore
    ///     func run() async throws {
    ///         try await cancelWhenGracefulShutdown { try await store.run() }
    ///         await store.close()
    ///     }
    /// }
    /// ```
    ///
    /// Throws when PostgreSQL migrations fail (the store is unusable then).
    func run() async throws(StoreError)

    /// Stops accepting calls (they throw `.closed`), finishes the ones in flight,
    /// releases connections and threads, and makes `run()` return. Idempotent.
    func close() async

    // MARK: Users

    /// Throws `.conflict` if the id or the username is taken.
    func createUser(_ user: UserRecord) async throws(StoreError)
    func user(named username: String) async throws(StoreError) -> UserRecord?
    func user(id: String) async throws(StoreError) -> UserRecord?
    /// Every user, by username.
    func users() async throws(StoreError) -> [UserRecord]
    /// Replaces username, password hash and role of the user with `user.id`
    /// (`createdAt` is kept). Throws `.notFound` or `.conflict` (username taken).
    func updateUser(_ user: UserRecord) async throws(StoreError)
    /// Deletes the user and their sessions. Returns whether the user existed.
    @discardableResult
    func deleteUser(id: String) async throws(StoreError) -> Bool

    // MARK: Sessions

    /// Stores (or replaces) a session. Throws `.notFound` if the user does not exist.
    func saveSession(_ session: SessionRecord) async throws(StoreError)
    /// The session, with the user's current username and role, or nil. Does not
    /// check `expiresAt`: the caller does, with its clock.
    func session(tokenHash: [UInt8]) async throws(StoreError) -> SessionRecord?
    @discardableResult
    func deleteSession(tokenHash: [UInt8]) async throws(StoreError) -> Bool
    /// Deletes sessions with `expiresAt <= now`; returns how many.
    @discardableResult
    func pruneSessions(now: Int64) async throws(StoreError) -> Int

    // MARK: Enrollments

    /// Throws `.conflict` if the token hash exists.
    func createEnrollment(_ enrollment: EnrollmentRecord) async throws(StoreError)
    func enrollment(tokenHash: [UInt8]) async throws(StoreError) -> EnrollmentRecord?
    /// Marks the enrollment used by `nodeID` at `now` and returns it, atomically: of
    /// any number of racing calls with the same token exactly one succeeds. Throws
    /// `.enrollmentUnknown`, `.enrollmentAlreadyUsed`, or `.enrollmentExpired`
    /// (`expiresAt <= now`).
    func consumeEnrollment(tokenHash: [UInt8], nodeID: String, now: Int64) async throws(StoreError) -> EnrollmentRecord

    // MARK: Nodes

    /// Throws `.conflict` if the id or the device token hash is taken.
    func insertNode(_ node: NodeRecord) async throws(StoreError)
    /// Applies the non-nil fields; returns the node as stored. Throws `.notFound`.
    func updateNode(id: String, _ update: NodeUpdate) async throws(StoreError) -> NodeRecord
    /// Node id → last-seen time, batched. A time older than the stored one is ignored
    /// (so late batches never move it back); unknown ids are ignored.
    func setLastSeen(_ lastSeen: [String: Int64]) async throws(StoreError)
    func node(id: String) async throws(StoreError) -> NodeRecord?
    func node(deviceTokenHash: [UInt8]) async throws(StoreError) -> NodeRecord?
    /// Every node, by id.
    func nodes() async throws(StoreError) -> [NodeRecord]
    /// Deletes the node with its log streams, logs, resume points and roll-ups (audit
    /// entries and command results stay as history). Returns whether it existed.
    @discardableResult
    func deleteNode(id: String) async throws(StoreError) -> Bool

    // MARK: Logs

    /// Stores the rows in one transaction and returns after COMMIT. Rows whose
    /// (nodeID, streamKey, seq) is stored already are ignored and counted as
    /// duplicates. The nodes need not exist.
    func appendLogs(_ rows: [LogRow]) async throws(StoreError) -> LogAppendResult
    /// Inserts or replaces the stream's description.
    func upsertLogStream(_ stream: LogStreamRecord) async throws(StoreError)
    /// The node's streams, by key.
    func logStreams(nodeID: String) async throws(StoreError) -> [LogStreamRecord]
    /// Stream key → highest seq ever stored for the node's stream. Durable and kept
    /// across `pruneLogs`, so an agent never resends what retention removed.
    func resumePoints(nodeID: String) async throws(StoreError) -> [String: Int64]
    func searchLogs(_ query: LogQuery) async throws(StoreError) -> [LogRow]
    /// Per stream of `nodeID` (every node when nil): rows stored, distinct seqs, and
    /// the lowest and highest seq, by node and stream key.
    func logStreamCounts(nodeID: String?) async throws(StoreError) -> [LogStreamCount]
    /// Deletes rows with `timestamp < olderThan` (the full-text index follows);
    /// returns how many.
    @discardableResult
    func pruneLogs(olderThan: Int64) async throws(StoreError) -> Int

    // MARK: Metric roll-ups

    /// Upserts: a row for a bucket that exists is merged into it (min of mins, max of
    /// maxes, sums and counts added). One transaction.
    func writeRollups(_ rows: [RollupRow]) async throws(StoreError)
    /// Buckets with `since <= bucket < until`, oldest first.
    func rollups(nodeID: String, name: String, resolution: Int, since: Int64, until: Int64) async throws(StoreError) -> [RollupRow]
    /// Metric names the node has roll-ups for, sorted.
    func metricNames(nodeID: String) async throws(StoreError) -> [String]
    /// Deletes buckets of `resolution` with `bucket < olderThan`; returns how many.
    @discardableResult
    func pruneRollups(resolution: Int, olderThan: Int64) async throws(StoreError) -> Int

    // MARK: Audit

    /// Appends the entry (its `id` is ignored) and returns the id assigned; durable
    /// before it returns.
    func appendAudit(_ record: AuditRecord) async throws(StoreError) -> Int64
    /// Entries with `since <= at < until` (either bound optional), of `actor` if
    /// given, newest first, at most `limit` (clamped to 0…10,000).
    func audit(since: Int64?, until: Int64?, actor: String?, limit: Int) async throws(StoreError) -> [AuditRecord]

    // MARK: Commands

    /// Throws `.conflict` if the id is taken.
    func saveCommand(_ command: CommandRecord) async throws(StoreError)
    /// Inserts or replaces results, in one transaction. Throws `.notFound` if a
    /// result's command does not exist (then nothing is saved).
    func saveCommandResults(_ results: [CommandResultRecord]) async throws(StoreError)
    /// The command and its results (by node id), or nil.
    func command(id: String) async throws(StoreError) -> (command: CommandRecord, results: [CommandResultRecord])?
    /// The newest commands first, at most `limit` (clamped to 0…10,000).
    func commands(limit: Int) async throws(StoreError) -> [CommandRecord]

    // MARK: Settings

    func setting(_ key: String) async throws(StoreError) -> String?
    func setSetting(_ key: String, _ value: String) async throws(StoreError)
}

extension FleetStore {
    /// Clamp shared by every listing that takes a limit.
    static func clampedLimit(_ limit: Int) -> Int {
        min(max(limit, 0), LogQuery.maximumLimit)
    }
}
