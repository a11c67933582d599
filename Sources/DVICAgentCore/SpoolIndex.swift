/// What the spool knows about its segments and streams, as a value type with no I/O: the `Spool`
/// does the file work and tells this core what happened; the core answers what may be released,
/// dropped or persisted.
struct SpoolIndex: Sendable {
    struct Stream: Sendable, Hashable {
        var info: LogStreamInfo?
        /// The highest sequence number spooled or known from the persisted state.
        var lastSeq: UInt64 = 0
        /// The server stored everything up to here.
        var acknowledged: UInt64 = 0
        /// Records up to here were dropped by the size cap.
        var droppedThrough: UInt64 = 0
        /// The newest source position known (of a spooled entry, or persisted).
        var checkpoint: SourceCheckpoint?
        /// The newest source position written to the state journal.
        var persistedCheckpoint: SourceCheckpoint?
        var retired = false
        /// The source is gone (its file deleted); the stream closes once nothing is owed.
        var sourceGone = false

        /// Nothing at or below this is owed to the server any more.
        var settled: UInt64 { max(acknowledged, droppedThrough) }
    }

    /// One stream's records within one segment.
    struct SegmentStream: Sendable, Hashable {
        var firstSeq: UInt64
        var lastSeq: UInt64
        var lastCheckpoint: SourceCheckpoint?
    }

    struct Segment: Sendable, Hashable {
        var id: UInt64
        var bytes: Int64
        var streams: [String: SegmentStream] = [:]
    }

    /// What a drop of the oldest segment cost one stream.
    struct Drop: Sendable, Hashable {
        var key: String
        var firstSeq: UInt64
        var count: UInt64
    }

    private(set) var streams: [String: Stream] = [:]
    private(set) var segments: [Segment] = []
    private(set) var totalBytes: Int64 = 0

    // MARK: Persisted state

    mutating func apply(_ entry: SpoolCodec.StateEntry) {
        switch entry {
        case .info(let info):
            streams[info.key, default: Stream()].info = info
            streams[info.key]!.retired = false
        case .acknowledged(let key, let seq):
            update(key) { $0.acknowledged = max($0.acknowledged, seq); $0.lastSeq = max($0.lastSeq, seq) }
        case .checkpoint(let key, let checkpoint):
            update(key) { stream in
                if checkpoint.seq >= (stream.checkpoint?.seq ?? 0) { stream.checkpoint = checkpoint }
                if checkpoint.seq >= (stream.persistedCheckpoint?.seq ?? 0) { stream.persistedCheckpoint = checkpoint }
                stream.lastSeq = max(stream.lastSeq, checkpoint.seq)
            }
        case .dropped(let key, let through):
            update(key) { $0.droppedThrough = max($0.droppedThrough, through); $0.lastSeq = max($0.lastSeq, through) }
        case .retired(let key, let lastSeq):
            update(key) { stream in
                stream.retired = true
                stream.info = nil
                stream.lastSeq = max(stream.lastSeq, lastSeq)
                stream.acknowledged = max(stream.acknowledged, lastSeq)
            }
        }
    }

    /// The full persisted state, as entries whose replay rebuilds it (the journal's snapshot).
    func stateEntries() -> [SpoolCodec.StateEntry] {
        var entries: [SpoolCodec.StateEntry] = []
        for key in streams.keys.sorted() {
            let stream = streams[key]!
            if stream.retired {
                entries.append(.retired(key: key, lastSeq: stream.lastSeq))
                continue
            }
            if let info = stream.info { entries.append(.info(info)) }
            if stream.acknowledged > 0 { entries.append(.acknowledged(key: key, seq: stream.acknowledged)) }
            if stream.droppedThrough > 0 { entries.append(.dropped(key: key, through: stream.droppedThrough)) }
            if let checkpoint = stream.persistedCheckpoint { entries.append(.checkpoint(key: key, checkpoint)) }
        }
        return entries
    }

    // MARK: Appending

    mutating func addSegment(id: UInt64) {
        segments.append(Segment(id: id, bytes: 0))
    }

    mutating func setInfo(_ info: LogStreamInfo) -> Bool {
        guard streams[info.key]?.info != info else { return false }
        streams[info.key, default: Stream()].info = info
        streams[info.key]!.retired = false
        return true
    }

    /// The first sequence number not yet spooled for `key`.
    func nextSeq(for key: String) -> UInt64 {
        (streams[key].map { max($0.lastSeq, $0.settled) } ?? 0) + 1
    }

    /// Records `firstSeq ..< firstSeq + count` of `key` were written to the last segment.
    mutating func recorded(key: String, firstSeq: UInt64, count: UInt64, checkpoint: SourceCheckpoint?, bytes: Int64) {
        precondition(!segments.isEmpty && count > 0)
        let lastSeq = firstSeq + count - 1
        let last = segments.count - 1
        segments[last].bytes += bytes
        totalBytes += bytes
        var entry = segments[last].streams[key] ?? SegmentStream(firstSeq: firstSeq, lastSeq: lastSeq)
        entry.lastSeq = lastSeq
        if let checkpoint { entry.lastCheckpoint = checkpoint }
        segments[last].streams[key] = entry
        update(key) { stream in
            // Records beyond a retired stream's end reopen it; the startup scan of records it
            // already had does not.
            if lastSeq > stream.lastSeq { stream.retired = false }
            stream.lastSeq = max(stream.lastSeq, lastSeq)
            if let checkpoint, checkpoint.seq >= (stream.checkpoint?.seq ?? 0) { stream.checkpoint = checkpoint }
        }
    }

    /// Counts bytes of a segment found on disk at startup whose entries were all seen already.
    mutating func addBytes(_ bytes: Int64) {
        guard !segments.isEmpty else { return }
        segments[segments.count - 1].bytes += bytes
        totalBytes += bytes
    }

    // MARK: Acknowledging, releasing, dropping

    /// The server stored `key` up to `seq`; returns whether that is news.
    mutating func acknowledge(key: String, seq: UInt64) -> Bool {
        guard let stream = streams[key], seq > stream.acknowledged else { return false }
        streams[key]!.acknowledged = seq
        streams[key]!.lastSeq = max(stream.lastSeq, seq)
        return true
    }

    /// A source position that is now safe to persist (every record before it is stored or
    /// dropped) and newer than the one persisted; it is then counted as persisted.
    mutating func checkpointToPersist(key: String) -> SourceCheckpoint? {
        guard let stream = streams[key] else { return nil }
        let settled = stream.settled
        var best: SourceCheckpoint?
        if let latest = stream.checkpoint, latest.seq <= settled {
            best = latest
        } else {
            for segment in segments.reversed() {
                if let checkpoint = segment.streams[key]?.lastCheckpoint, checkpoint.seq <= settled {
                    best = checkpoint
                    break
                }
            }
        }
        guard let best, best != stream.persistedCheckpoint, best.seq >= (stream.persistedCheckpoint?.seq ?? 0) else {
            return nil
        }
        streams[key]!.persistedCheckpoint = best
        return best
    }

    /// Whether nothing in the segment is owed to the server.
    func isReleasable(_ segment: Segment) -> Bool {
        segment.streams.allSatisfy { key, entry in entry.lastSeq <= (streams[key]?.settled ?? 0) }
    }

    mutating func removeSegment(id: UInt64) {
        guard let index = segments.firstIndex(where: { $0.id == id }) else { return }
        totalBytes -= segments[index].bytes
        segments.remove(at: index)
    }

    /// Forgets the oldest segment, counting what of it was still owed as dropped.
    mutating func dropOldest() -> [Drop] {
        guard let oldest = segments.first else { return [] }
        var drops: [Drop] = []
        for (key, entry) in oldest.streams.sorted(by: { $0.key < $1.key }) {
            let settled = streams[key]?.settled ?? 0
            guard entry.lastSeq > settled else { continue }
            let first = max(settled + 1, entry.firstSeq)
            drops.append(Drop(key: key, firstSeq: first, count: entry.lastSeq - first + 1))
            update(key) { $0.droppedThrough = max($0.droppedThrough, entry.lastSeq) }
        }
        removeSegment(id: oldest.id)
        return drops
    }

    // MARK: Streams

    mutating func markGone(_ key: String) {
        guard streams[key] != nil else { return }
        streams[key]!.sourceGone = true
    }

    mutating func markPresent(_ key: String) {
        guard streams[key] != nil else { return }
        streams[key]!.sourceGone = false
    }

    /// Streams whose source is gone and of which nothing is owed: ready for `logStreamClose`.
    func closableStreams() -> [String] {
        streams.filter { _, stream in !stream.retired && stream.sourceGone && stream.settled >= stream.lastSeq }
            .keys.sorted()
    }

    mutating func retire(_ key: String) {
        update(key) { stream in
            stream.retired = true
            stream.info = nil
            stream.sourceGone = false
        }
    }

    func resume(for key: String) -> SourceResume {
        guard let stream = streams[key] else { return .fresh }
        return SourceResume(checkpoint: stream.checkpoint, lastSeq: max(stream.lastSeq, stream.settled))
    }

    private mutating func update(_ key: String, _ change: (inout Stream) -> Void) {
        var stream = streams[key] ?? Stream()
        change(&stream)
        streams[key] = stream
    }
}
