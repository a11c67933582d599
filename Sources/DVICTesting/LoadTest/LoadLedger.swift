public import DVICProtocol

/// One load node's log stream as the node sees it: the lines it numbered, the batches
/// the server has not acknowledged yet, and how far the acks have come, across every
/// session. After a reconnect it says what to send again (everything past the resume
/// point of the `welcome`, same seqs, same text and timestamps), as the real agent's
/// spool does. A value with no I/O: `LoadNode` keeps it under its lock, tests drive it
/// directly.
///
/// An unacknowledged batch is kept as the few numbers that make it again
/// (`records(node:firstLine:count:lineCount:end:span:)`), not as its text: with a
/// server backlog of a minute, ten thousand nodes hold millions of unacknowledged
/// lines, hundreds of MB as text. Only a batch a planted fault changed keeps its
/// records. So memory is ~70 bytes per unacknowledged batch, bounded by the run.
public struct LoadLedger: Sendable {
    /// A batch as it was sent.
    struct Batch: Sendable {
        var firstSeq: UInt64
        /// Records on the wire.
        var count: Int
        /// The node's number of its first line (1…), which the text is made from.
        var firstLine: Int64
        /// Lines the tick made; the timestamps are spread over them.
        var lineCount: Int
        /// Wall-clock milliseconds of the tick, and the span its lines cover.
        var end: Int64
        var span: Int64
        /// The records themselves, only when a planted fault made them irregular.
        var planted: [LogRecord]?

        var lastSeq: UInt64 { firstSeq + UInt64(count) - 1 }
        var oldest: Int64 { planted?.first?.timestamp ?? LoadLedger.timestamp(0, lineCount: lineCount, end: end, span: span) }

        func records(node: Int) -> [LogRecord] {
            planted ?? LoadLedger.records(node: node, firstLine: firstLine, count: count, lineCount: lineCount, end: end, span: span)
        }
    }

    public let node: Int
    public let streamID: UInt32
    /// Lines the node meant to send (a planted loss counts, never reaches the wire).
    public private(set) var lines: Int64 = 0
    public private(set) var nextSeq: UInt64 = 1
    /// Highest seq the server said it stored, by an ack or a resume point, any session.
    public private(set) var ackedSeq: UInt64 = 0
    /// Records put on the wire again after reconnects.
    public private(set) var resentRecords: Int64 = 0
    private var pending: [Batch] = []
    private var pendingStart = 0

    public init(node: Int, streamID: UInt32) {
        self.node = node
        self.streamID = streamID
    }

    public var lastSeq: UInt64 { nextSeq - 1 }
    public var unacked: UInt64 { lastSeq - min(lastSeq, ackedSeq) }
    /// Batches kept for a possible resend.
    public var pendingBatches: Int { pending.count - pendingStart }

    /// Numbers the `count` lines of one tick that ends at `end` (ms) and covers `span`
    /// ms, keeps the batch until it is acknowledged, and returns it to send (nil: a
    /// planted loss took its only line).
    /// - Parameters:
    ///   - dropLast: planted loss: the last line is counted, never numbered or sent.
    ///   - repeatFirst: planted duplicate: the first line again under a fresh seq.
    public mutating func append(lines count: Int, end: Int64, span: Int64, dropLast: Bool = false, repeatFirst: Bool = false) -> LogBatch? {
        guard count > 0 else { return nil }
        let firstLine = lines + 1
        lines += Int64(count)
        var records = Self.records(node: node, firstLine: firstLine, count: count, lineCount: count, end: end, span: span)
        if dropLast { records.removeLast() }
        if repeatFirst, let first = records.first { records.append(first) }
        guard !records.isEmpty else { return nil }
        let batch = Batch(
            firstSeq: nextSeq, count: records.count, firstLine: firstLine, lineCount: count, end: end, span: span,
            planted: repeatFirst ? records : nil)
        nextSeq += UInt64(records.count)
        pending.append(batch)
        return LogBatch(streamID: streamID, firstSeq: batch.firstSeq, records: records)
    }

    /// The server stored everything up to `seq`: forgets those batches, reporting each
    /// one's ingest lag (from its oldest line's timestamp, so a resent batch is as late
    /// as it really was).
    public mutating func acknowledge(_ seq: UInt64, now: Int64, lag: (Int) -> Void) {
        ackedSeq = max(ackedSeq, seq)
        while pendingStart < pending.count, pending[pendingStart].lastSeq <= seq {
            lag(Int(now - pending[pendingStart].oldest))
            pendingStart += 1
        }
        // Compact now and then rather than shifting an array on every ack.
        if pendingStart > 64 {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
    }

    /// A new session's `welcome` says the server holds the stream up to `resumePoint`:
    /// what it holds counts as acknowledged (those acks went down with the old
    /// connection), and every record after it that was numbered comes back, in order,
    /// in batches of at most `maxRecords` (fewer frames than the ticks made, none
    /// near the server's message limit).
    public mutating func resume(after resumePoint: UInt64, now: Int64, maxRecords: Int = 1000, lag: (Int) -> Void) -> [LogBatch] {
        acknowledge(resumePoint, now: now, lag: lag)
        let from = ackedSeq + 1
        var batches: [LogBatch] = []
        var current: [LogRecord] = []
        var currentFirst: UInt64 = 0
        func flush() {
            guard !current.isEmpty else { return }
            batches.append(LogBatch(streamID: streamID, firstSeq: currentFirst, records: current))
            resentRecords += Int64(current.count)
            current = []
        }
        for batch in pending[pendingStart...] where batch.lastSeq >= from {
            var records = batch.records(node: node)
            var first = batch.firstSeq
            if first < from {
                // Stored in part: only its tail comes back.
                records.removeFirst(Int(from - first))
                first = from
            }
            // Only consecutive seqs share a batch; a batch is never split further.
            if !current.isEmpty, currentFirst + UInt64(current.count) != first || current.count + records.count > maxRecords { flush() }
            if current.isEmpty { currentFirst = first }
            current += records
        }
        flush()
        return batches
    }

    // MARK: The lines

    /// The records of lines `firstLine…firstLine+count-1` of a tick of `lineCount`
    /// lines, spread over the `span` ms before `end`, oldest first. The same numbers
    /// always make the same records, which is what lets a resend be exact.
    public static func records(node: Int, firstLine: Int64, count: Int, lineCount: Int, end: Int64, span: Int64) -> [LogRecord] {
        (0..<count).map { i in
            let line = firstLine + Int64(i)
            return LogRecord(timestamp: timestamp(i, lineCount: lineCount, end: end, span: span), severity: line % 50 == 0 ? .warn : .info, text: text(node: node, line: line))
        }
    }

    static func timestamp(_ i: Int, lineCount: Int, end: Int64, span: Int64) -> Int64 {
        end - span + span * Int64(i + 1) / Int64(max(1, lineCount))
    }

    /// A log-like line of ~100 bytes with a unique token, as real lines have.
    static func text(node: Int, line: Int64) -> String {
        let verbs = ["GET", "POST", "connect", "retry", "frame", "sensor", "camera", "upload"]
        let nouns = ["inference", "pipeline", "buffer", "socket", "model", "detector", "gpio", "battery"]
        return "\(verbs[Int(line) % verbs.count]) /api/v1/\(nouns[(Int(line) / 7 + node) % nouns.count]) node=\(node) line=\(line) status=\(200 + Int(line) % 5) took=\(Int(line) &* 31 % 997)ms fps=\(Int(line) % 60) ok"
    }
}
