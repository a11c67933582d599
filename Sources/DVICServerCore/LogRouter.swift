public import DVICProtocol
public import DVICStore
public import Logging
public import ServiceLifecycle

/// Stores log batches from every connection in large transactions, acknowledges each
/// batch to its agent only after the transaction committed, drops replays, fans
/// stored entries out to the live stream, searches, and applies retention.
public actor LogRouter: Service {
    private var core = LogRouterCore()
    private let store: any FleetStore
    private let hub: StreamHub
    private let links: LinkDirectory
    private let clock: FleetClock
    private let logger: Logger
    /// How long rows may wait for companions before a write.
    private let flushInterval: Duration
    /// A write starts at once when this many rows are waiting.
    private let flushRows: Int
    private let retentionMs: Int64
    private var flushing = false
    /// Callers of `flushAll` waiting for the write in flight to end.
    private var flushWaiters: [CheckedContinuation<Void, Never>] = []
    private var tagsByNode: [String: [String]] = [:]
    /// Agent batches handed over without a hop each (`submit`).
    private let inbox = ActorInbox<Submitted>(gather: .ingestGather)
    private var learnedNodes: Set<String> = []

    public private(set) var rowsStored = 0
    public private(set) var batchesWritten = 0
    /// Milliseconds the last write's transaction took (for /metrics).
    public private(set) var lastWriteMs: Int64 = 0
    /// Newest record timestamp minus now at its commit (for /metrics), ms.
    public private(set) var lastIngestLagMs: Int64 = 0

    public init(
        store: any FleetStore, hub: StreamHub, links: LinkDirectory, clock: FleetClock = .system,
        flushInterval: Duration = .milliseconds(25), flushRows: Int = 5000, retentionDays: Int = 30, logger: Logger
    ) {
        self.store = store
        self.hub = hub
        self.links = links
        self.clock = clock
        self.flushInterval = flushInterval
        self.flushRows = flushRows
        self.retentionMs = Int64(retentionDays) * 86_400_000
        self.logger = logger
    }

    public var duplicatesDropped: Int { core.duplicatesDropped }
    public var pendingRows: Int { core.pendingCount }

    /// Resume points of a node, learned from the store, for its `welcome`.
    public func resumePoints(nodeID: String) async throws(StoreError) -> [ResumePoint] {
        let points = try await store.resumePoints(nodeID: nodeID)
        for (key, seq) in points {
            core.learnDurable(.init(nodeID: nodeID, streamKey: key), seq: UInt64(max(0, seq)))
        }
        return points.sorted { $0.key < $1.key }.map { ResumePoint(key: $0.key, lastSeq: UInt64(max(0, $0.value))) }
    }

    public func openStream(nodeID: String, _ open: LogStreamOpen) async {
        var metadata: [String: String] = [:]
        if open.source == .demo {
            metadata = ["pid": "\(open.pid)", "exe": open.exe, "argv": open.argv.joined(separator: " "), "user": open.user, "started": "\(open.started)"]
        }
        if !open.container.isEmpty { metadata["container"] = open.container }
        let record = LogStreamRecord(nodeID: nodeID, key: open.key, source: Int(open.source.rawValue), name: open.name, path: open.path, metadata: metadata, openedAt: clock.now())
        do {
            try await store.upsertLogStream(record)
        } catch {
            logger.warning("could not record log stream", metadata: ["node": "\(nodeID)", "error": "\(error)"])
        }
    }

    /// Appends records to a stream the server numbers itself (a device's keepalive
    /// logs), continuing after what is stored.
    public func append(nodeID: String, nodeTags: [String], open: LogStreamOpen, records: [LogRecord]) async {
        guard !records.isEmpty else { return }
        if !learnedNodes.contains(nodeID) {
            _ = try? await resumePoints(nodeID: nodeID)
            learnedNodes.insert(nodeID)
            await openStream(nodeID: nodeID, open)
        }
        let first = core.nextSeq(.init(nodeID: nodeID, streamKey: open.key))
        await ingest(nodeID: nodeID, nodeTags: nodeTags, sessionID: "", streamID: open.streamID, streamKey: open.key, batch: LogBatch(streamID: open.streamID, firstSeq: first, records: records))
    }

    /// Takes a batch; its ack follows the commit of the write that holds it.
    public func ingest(nodeID: String, nodeTags: [String], sessionID: String, streamID: UInt32, streamKey: String, batch: LogBatch) async {
        submit(nodeID: nodeID, nodeTags: nodeTags, sessionID: sessionID, streamID: streamID, streamKey: streamKey, batch: batch)
        await drainInbox()
    }

    /// Takes a batch from an agent connection without waiting for the router: the
    /// connection goes on reading while batches gather and are ingested in order, many
    /// per hop (`ActorInbox`). The ack still follows the commit.
    public nonisolated func submit(nodeID: String, nodeTags: [String], sessionID: String, streamID: UInt32, streamKey: String, batch: LogBatch) {
        let item = Submitted(nodeID: nodeID, nodeTags: nodeTags, sessionID: sessionID, streamID: streamID, streamKey: streamKey, batch: batch)
        inbox.push(item) { await self.drainInbox() }
    }

    /// Batches submitted and not yet taken in (for /metrics).
    public nonisolated var inboxCount: Int { inbox.count }

    /// Ingests everything submitted so far, in order.
    private func drainInbox() async {
        while true {
            let items = inbox.take()
            if items.isEmpty { return }
            var directives: [LogRouterCore.Directive] = []
            // No suspension inside this loop: items of a later drain never overtake these.
            for item in items {
                tagsByNode[item.nodeID] = item.nodeTags
                directives += core.ingest(nodeID: item.nodeID, sessionID: item.sessionID, streamID: item.streamID, streamKey: item.streamKey, batch: item.batch)
            }
            if !directives.isEmpty { await apply(directives) }
            if core.pendingCount >= flushRows { await flush() }
        }
    }

    /// Writes what is pending in one transaction (one writer at a time: group commit).
    /// Returns at once while another write is in flight; `flushAll` waits for it.
    public func flush() async {
        guard !flushing, core.pendingCount > 0 else { return }
        flushing = true
        defer {
            flushing = false
            for waiter in flushWaiters { waiter.resume() }
            flushWaiters.removeAll()
        }
        while core.pendingCount > 0 {
            let (rows, acks) = core.takePending()
            let started = clock.now()
            do {
                let storeRows = rows.map {
                    LogRow(nodeID: $0.nodeID, streamKey: $0.streamKey, seq: Int64($0.seq), timestamp: $0.timestamp, level: Int($0.severity.rawValue), text: $0.text)
                }
                _ = try await store.appendLogs(storeRows)
                let now = clock.now()
                lastWriteMs = now - started
                if let newest = rows.map(\.timestamp).max() { lastIngestLagMs = now - newest }
                rowsStored += rows.count
                batchesWritten += 1
                let hub = hub
                await apply(core.committed(rows: rows, acks: acks) { hub.wants(.logs, nodeID: $0) })
            } catch {
                core.failed(rows: rows, acks: acks)
                logger.error("log write failed; will retry", metadata: ["rows": "\(rows.count)", "error": "\(error)"])
                return
            }
        }
    }

    /// Returns once every row taken before the call is committed (or its write failed and
    /// will be retried): what a search must see, and what a keepalive's 200 acknowledges.
    /// A write in flight may hold rows this caller gave, so it is waited for, not skipped.
    public func flushAll() async {
        await drainInbox()
        while flushing {
            await withCheckedContinuation { flushWaiters.append($0) }
        }
        await flush()
    }

    public func search(_ query: LogQuery) async throws(StoreError) -> [LogRow] {
        await flushAll()
        return try await store.searchLogs(query)
    }

    public func forget(nodeID: String) {
        core.forget(nodeID: nodeID)
    }

    public func run() async throws {
        var ticks = 0
        while await GracefulTimer.tick(flushInterval) {
            await drainInbox()
            await flush()
            ticks += 1
            if ticks % 144_000 == 1 {
                _ = try? await store.pruneLogs(olderThan: clock.now() - retentionMs)
            }
        }
        // Graceful shutdown: every buffered row is written before the store closes.
        await drainInbox()
        await flush()
    }

    private func apply(_ directives: [LogRouterCore.Directive]) async {
        // One send per session, however many streams it acked; one hop to the hub per
        // write, however many streams it touched (a write of a 10,000-node fleet touches
        // thousands, and a hop each kept the writer from the next write).
        var ackMessages: [LinkKey: [Message]] = [:]
        var events: [StreamEvent] = []
        for directive in directives {
            switch directive {
            case .ack(let target):
                ackMessages[LinkKey(nodeID: target.nodeID, sessionID: target.sessionID), default: []]
                    .append(.logAck(LogAck(streamID: target.streamID, seq: target.seq)))
            case .fanOut(let nodeID, let streamKey, let entries):
                events.append(StreamEvent(
                    kind: .logs, nodeID: nodeID, nodeTags: tagsByNode[nodeID] ?? [],
                    message: .logEntries(LogEntries(nodeID: nodeID, streamKey: streamKey, entries: entries))))
            }
        }
        for (key, acks) in ackMessages {
            links.send(nodeID: key.nodeID, sessionID: key.sessionID, acks)
        }
        if !events.isEmpty { await hub.publish(events) }
    }

    private struct Submitted: Sendable {
        var nodeID: String
        var nodeTags: [String]
        var sessionID: String
        var streamID: UInt32
        var streamKey: String
        var batch: LogBatch
    }

    private struct LinkKey: Hashable {
        var nodeID: String
        var sessionID: String
    }
}
