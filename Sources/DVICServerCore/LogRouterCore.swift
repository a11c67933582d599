public import DVICProtocol

/// The log router's logic with no I/O: it gathers batches from every connection into
/// one pending write (group commit), drops what is already stored, and, once the
/// shell reports the write committed, says which acks to send and which entries to
/// fan out. An ack never goes out before its records are durable.
public struct LogRouterCore: Sendable {
    /// One record to store.
    public struct Row: Sendable, Hashable {
        public var nodeID: String
        public var streamKey: String
        public var seq: UInt64
        public var timestamp: Int64
        public var severity: Severity
        public var text: String
    }

    /// Where an ack goes once a write commits.
    public struct AckTarget: Sendable, Hashable {
        public var nodeID: String
        public var sessionID: String
        public var streamID: UInt32
        public var streamKey: String
        public var seq: UInt64

        public init(nodeID: String, sessionID: String, streamID: UInt32, streamKey: String, seq: UInt64) {
            self.nodeID = nodeID
            self.sessionID = sessionID
            self.streamID = streamID
            self.streamKey = streamKey
            self.seq = seq
        }
    }

    public struct StreamRef: Sendable, Hashable {
        public var nodeID: String
        public var streamKey: String

        public init(nodeID: String, streamKey: String) {
            self.nodeID = nodeID
            self.streamKey = streamKey
        }
    }

    public enum Directive: Sendable, Hashable {
        /// Send `logAck(streamID, seq)` on this session.
        case ack(AckTarget)
        /// Tell live subscribers about stored entries of one stream.
        case fanOut(nodeID: String, streamKey: String, entries: [StreamLogEntry])
    }

    /// Highest durable seq per stream, as far as this server knows.
    public private(set) var durable: [StreamRef: UInt64] = [:]
    public private(set) var pending: [Row] = []
    private var pendingAcks: [AckTarget] = []
    /// Highest seq accepted into `pending` per stream, so a batch repeated while the
    /// first copy is still being written is not queued twice.
    private var queued: [StreamRef: UInt64] = [:]
    public private(set) var duplicatesDropped: Int = 0

    public init() {}

    /// Seeds what is durable for a stream (from the store, at connect).
    public mutating func learnDurable(_ ref: StreamRef, seq: UInt64) {
        durable[ref] = max(durable[ref] ?? 0, seq)
    }

    public func durableSeq(_ ref: StreamRef) -> UInt64 { durable[ref] ?? 0 }

    /// The next sequence number for a stream the server numbers itself (devices).
    public func nextSeq(_ ref: StreamRef) -> UInt64 { max(durable[ref] ?? 0, queued[ref] ?? 0) + 1 }

    /// Takes a batch; returns directives that need no write (an ack for a batch that
    /// was stored before: the agent replayed it).
    public mutating func ingest(nodeID: String, sessionID: String, streamID: UInt32, streamKey: String, batch: LogBatch) -> [Directive] {
        guard !batch.records.isEmpty else { return [] }
        let ref = StreamRef(nodeID: nodeID, streamKey: streamKey)
        let floor = max(durable[ref] ?? 0, queued[ref] ?? 0)
        let last = batch.firstSeq + UInt64(batch.records.count) - 1
        var added = false
        for (offset, record) in batch.records.enumerated() {
            let seq = batch.firstSeq + UInt64(offset)
            if seq <= floor {
                duplicatesDropped += 1
                continue
            }
            pending.append(Row(nodeID: nodeID, streamKey: streamKey, seq: seq, timestamp: record.timestamp, severity: record.severity, text: record.text))
            added = true
        }
        let target = AckTarget(nodeID: nodeID, sessionID: sessionID, streamID: streamID, streamKey: streamKey, seq: last)
        if added {
            queued[ref] = max(queued[ref] ?? 0, last)
            pendingAcks.append(target)
            return []
        }
        // Everything was a duplicate. If it is all durable, say so now; if part of it
        // is still being written, the ack waits for that write.
        if last <= (durable[ref] ?? 0) {
            return [.ack(target)]
        }
        pendingAcks.append(target)
        return []
    }

    public var pendingCount: Int { pending.count }

    /// Hands the pending rows to the shell for one transaction.
    public mutating func takePending() -> (rows: [Row], acks: [AckTarget]) {
        defer {
            pending = []
            pendingAcks = []
        }
        return (pending, pendingAcks)
    }

    /// The write of `rows` committed: acks for `acks`, fan-out for the rows of the nodes
    /// `fanOut` says someone follows (the others' entries are not even built).
    ///
    /// What is durable moves with the acks alone: every pending row came with the ack of its
    /// batch (`takePending` and `failed` keep the two together), whose seq is the batch's last.
    public mutating func committed(rows: [Row], acks: [AckTarget], fanOut: (String) -> Bool = { _ in true }) -> [Directive] {
        var directives: [Directive] = []
        directives.reserveCapacity(acks.count)
        for ack in acks {
            let ref = StreamRef(nodeID: ack.nodeID, streamKey: ack.streamKey)
            durable[ref] = max(durable[ref] ?? 0, ack.seq)
            directives.append(.ack(ack))
        }
        var byStream: [StreamRef: [StreamLogEntry]] = [:]
        var order: [StreamRef] = []
        var followed: [String: Bool] = [:]
        for row in rows {
            let wanted = followed[row.nodeID] ?? {
                let answer = fanOut(row.nodeID)
                followed[row.nodeID] = answer
                return answer
            }()
            guard wanted else { continue }
            let ref = StreamRef(nodeID: row.nodeID, streamKey: row.streamKey)
            if byStream[ref] == nil { order.append(ref) }
            byStream[ref, default: []].append(StreamLogEntry(seq: row.seq, timestamp: row.timestamp, severity: row.severity, text: row.text))
        }
        for ref in order {
            directives.append(.fanOut(nodeID: ref.nodeID, streamKey: ref.streamKey, entries: byStream[ref]!))
        }
        return directives
    }

    /// The write failed: the rows go back in front so the next flush retries them,
    /// and no ack is sent (the agent keeps them in its spool either way).
    public mutating func failed(rows: [Row], acks: [AckTarget]) {
        pending = rows + pending
        pendingAcks = acks + pendingAcks
    }

    /// Forgets a node's streams (node deleted).
    public mutating func forget(nodeID: String) {
        durable = durable.filter { $0.key.nodeID != nodeID }
        queued = queued.filter { $0.key.nodeID != nodeID }
    }
}
