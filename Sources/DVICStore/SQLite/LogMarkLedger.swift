/// The stream marks (`log_marks.high_seq`) of committed log rows that the SQLite store has
/// not yet written to `log_marks`, and when it last wrote them.
///
/// Why: each ingest commit used to upsert the mark of every stream in it, about 500
/// streams scattered over all of the table's pages at 10,000 nodes: some 150 WAL pages a
/// commit, 20 commits a second, written again at checkpoint (Benchmarks/README.md, seventh
/// round). The marks are now written at most once per `interval`, all waiting ones in the
/// commit that is due. The rows themselves are durable at their commit; a mark a crash
/// lost is rebuilt at open from the rows above `log_marks_state.saved_through`, which the
/// same commit sets (`SQLiteFleetStore.recoverLogMarks`).
///
/// Only the writer thread changes it, in `committed` hooks, so it holds committed marks
/// only: a rolled-back write leaves it as it was. A value-type core, driven by tests
/// with explicit instants.
struct LogMarkLedger: Sendable {
    /// How long marks may wait before a commit writes them.
    let interval: Duration
    /// Node → stream key → the highest committed seq not yet in `log_marks`.
    private(set) var unsaved: [String: [String: Int64]] = [:]
    private(set) var lastSave: ContinuousClock.Instant

    init(interval: Duration, now: ContinuousClock.Instant) {
        self.interval = interval
        self.lastSave = now
    }

    /// The stream's waiting mark, if it has one; above the table's when it has.
    func mark(_ stream: LogStreamID) -> Int64? {
        unsaved[stream.nodeID]?[stream.streamKey]
    }

    /// A node's waiting marks, by stream key.
    func marks(nodeID: String) -> [String: Int64] {
        unsaved[nodeID] ?? [:]
    }

    /// Whether a commit starting at `now` should write the waiting marks.
    func isDue(at now: ContinuousClock.Instant) -> Bool {
        now - lastSave >= interval
    }

    /// What a due commit writes: every waiting mark, raised by the commit's own.
    func toSave(with own: [LogStreamID: Int64]) -> [LogStreamID: Int64] {
        var all = own
        for (node, streams) in unsaved {
            for (key, mark) in streams {
                let stream = LogStreamID(nodeID: node, streamKey: key)
                if let high = all[stream], high >= mark { continue }
                all[stream] = mark
            }
        }
        return all
    }

    /// A commit stored rows up to these marks, without writing them to the table.
    mutating func record(_ marks: [LogStreamID: Int64]) {
        for (stream, mark) in marks {
            if let held = unsaved[stream.nodeID]?[stream.streamKey], held >= mark { continue }
            unsaved[stream.nodeID, default: [:]][stream.streamKey] = mark
        }
    }

    /// A commit wrote these marks (`toSave`): they wait no longer, unless one was raised
    /// since, which cannot happen on the single writer but would keep it waiting.
    mutating func saved(_ marks: [LogStreamID: Int64], at now: ContinuousClock.Instant) {
        for (stream, mark) in marks {
            guard let held = unsaved[stream.nodeID]?[stream.streamKey], held <= mark else { continue }
            unsaved[stream.nodeID]?[stream.streamKey] = nil
            if unsaved[stream.nodeID]?.isEmpty == true { unsaved[stream.nodeID] = nil }
        }
        lastSave = now
    }

    /// A deleted node's marks go with it, so a later save does not bring them back.
    mutating func forget(nodeID: String) {
        unsaved[nodeID] = nil
    }
}
