#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DVICProtocol
public import Logging

/// The lossless log spool: every record of every stream, numbered, on disk until the server
/// acknowledges it (Spec/protocol.md 7).
///
/// Layout under `directory`:
/// - `<id>.seg`: append-only segment files of record entries (`SpoolCodec`), a new one every
///   `segmentBytes`. A segment is deleted once nothing in it is owed to the server.
/// - `streams.journal`: append-only stream state (acknowledgements, source checkpoints, drops,
///   descriptions), compacted into `streams.snapshot` when it grows past `journalCompactionBytes`.
///
/// Durability (fsync policy): appends are `write(2)`s, so they survive a crash of the agent at
/// once; `flush()`, which the agent calls every second, `fdatasync`s the segment and the journal
/// that changed, so a power cut loses at most the last second. Snapshots are written to a
/// temporary file, synced and renamed. At startup a torn last entry is cut off; a source whose
/// spooled records were lost that way resumes at its last checkpoint that survived and numbers
/// its records as before, so the server (which drops any (stream, seq) it holds) stores nothing
/// twice.
///
/// Source offsets ("checkpoints") are persisted to the journal only once everything before them
/// is acknowledged (or dropped): until then the spooled records themselves carry them.
///
/// When the segments pass `maxBytes`, the oldest segment is dropped and its unacknowledged
/// records are reported as gaps (`logGap`).
///
/// Not thread-safe: one owner (the agent's runtime actor) drives it.
public final class Spool {
    public struct Configuration: Sendable {
        public var directory: String
        public var maxBytes: Int64
        /// Size at which a new segment is started; by default an eighth of `maxBytes`, between
        /// 64 KiB and 4 MiB.
        public var segmentBytes: Int64
        public var journalCompactionBytes: Int64
        /// `fdatasync` in `flush()`; tests turn it off to save time.
        public var synchronizes: Bool

        public init(
            directory: String, maxBytes: Int64 = 64 << 20, segmentBytes: Int64? = nil,
            journalCompactionBytes: Int64 = 1 << 20, synchronizes: Bool = true
        ) {
            self.directory = directory
            self.maxBytes = max(4096, maxBytes)
            self.segmentBytes = segmentBytes ?? min(4 << 20, max(64 << 10, maxBytes / 8))
            self.journalCompactionBytes = journalCompactionBytes
            self.synchronizes = synchronizes
        }
    }

    public let configuration: Configuration
    private let logger: Logger
    private var index = SpoolIndex()
    private var writeDescriptor: CInt = -1
    private var journalDescriptor: CInt = -1
    private var journalBytes: Int64 = 0
    private var segmentDirty = false
    private var journalDirty = false
    private var directoryDirty = false
    /// Records dropped by the size cap since startup.
    public private(set) var droppedRecordCount: UInt64 = 0

    // Delivery state of the current connection.
    private var delivering = false
    private var cursor: (segment: UInt64, offset: Int64)?
    private var readHandle: (segment: UInt64, descriptor: CInt)?
    private var sentThrough: [String: UInt64] = [:]
    private var inFlight: [String: [(lastSeq: UInt64, bytes: Int)]] = [:]
    public private(set) var inFlightBytes = 0
    private var pendingGaps: [SpoolDelivery] = []

    public init(configuration: Configuration, logger: Logger) throws(AgentError) {
        self.configuration = configuration
        self.logger = logger
        try FileSystem.makeDirectory(configuration.directory, mode: 0o700)
        try loadState()
        try loadSegments()
        try openJournal()
    }

    deinit {
        if writeDescriptor >= 0 { closeDescriptor(writeDescriptor) }
        if journalDescriptor >= 0 { closeDescriptor(journalDescriptor) }
        if let readHandle { closeDescriptor(readHandle.descriptor) }
    }

    // MARK: - Sources

    /// Where a source of `key` picks up: its last checkpoint and last sequence number.
    public func resume(for key: String) -> SourceResume {
        index.resume(for: key)
    }

    public func info(for key: String) -> LogStreamInfo? {
        index.streams[key]?.info
    }

    /// Records (and persists) a stream's description.
    public func register(_ info: LogStreamInfo) {
        if index.setInfo(info) { appendJournal(.info(info)) }
        index.markPresent(info.key)
    }

    /// Spools a chunk. Records numbered at or below what is already spooled for the stream are
    /// skipped: they are a source re-reading the pieces of a line it had not finished.
    /// - Returns: how many records were written.
    @discardableResult
    public func append(_ chunk: LogChunk) throws(AgentError) -> Int {
        guard !chunk.records.isEmpty else { return 0 }
        register(chunk.info)
        let key = chunk.info.key
        let next = index.nextSeq(for: key)
        let skip = next > chunk.firstSeq ? Int(min(UInt64(chunk.records.count), next - chunk.firstSeq)) : 0
        guard skip < chunk.records.count else { return 0 }
        let firstSeq = chunk.firstSeq + UInt64(skip)
        let records = chunk.records[skip...]
        let entry = SpoolCodec.encodeRecords(key: key, firstSeq: firstSeq, records: records, checkpoint: chunk.checkpoint)
        if let last = index.segments.last, last.bytes > 0, last.bytes + Int64(entry.count) > configuration.segmentBytes {
            try startSegment()
        }
        try FileSystem.writeAll(writeDescriptor, entry)
        segmentDirty = true
        index.recorded(
            key: key, firstSeq: firstSeq, count: UInt64(records.count), checkpoint: chunk.checkpoint, bytes: Int64(entry.count))
        try enforceCap()
        return records.count
    }

    /// The source of these streams is gone; each closes once nothing of it is owed.
    public func markGone(_ keys: some Sequence<String>) {
        for key in keys { index.markGone(key) }
    }

    /// Marks gone every described stream with one of `prefixes` that is not in `active`: after a
    /// restart, the streams of files deleted meanwhile.
    public func markGone(keysWithPrefixes prefixes: [String], except active: Set<String>) {
        for (key, stream) in index.streams where !stream.retired && !active.contains(key) {
            if prefixes.contains(where: { key.hasPrefix($0) }) { index.markGone(key) }
        }
    }

    // MARK: - Server

    /// The server stored `key` up to `seq`.
    public func acknowledge(key: String, seq: UInt64) {
        if var flights = inFlight[key] {
            while let first = flights.first, first.lastSeq <= seq {
                inFlightBytes -= first.bytes
                flights.removeFirst()
            }
            inFlight[key] = flights
        }
        guard index.acknowledge(key: key, seq: seq) else { return }
        appendJournal(.acknowledged(key: key, seq: seq))
        if let checkpoint = index.checkpointToPersist(key: key) { appendJournal(.checkpoint(key: key, checkpoint)) }
        releaseSegments()
    }

    /// A connection starts: send again from what the server says it holds (`welcome.resume`).
    /// The resume points count as acknowledgements; dropped records beyond them become gaps.
    public func beginDelivery(resume: [String: UInt64]) {
        endDelivery()
        for (key, seq) in resume where seq > 0 && index.streams[key] != nil {
            acknowledge(key: key, seq: seq)
        }
        delivering = true
        sentThrough = [:]
        for (key, stream) in index.streams where !stream.retired {
            let held = resume[key] ?? 0
            sentThrough[key] = held
            if stream.droppedThrough > held {
                pendingGaps.append(.gap(key: key, firstSeq: held + 1, count: stream.droppedThrough - held))
                sentThrough[key] = stream.droppedThrough
            }
        }
        cursor = index.segments.first.map { ($0.id, 0) }
    }

    /// The connection ended: nothing is in flight any more.
    public func endDelivery() {
        delivering = false
        cursor = nil
        sentThrough = [:]
        inFlight = [:]
        inFlightBytes = 0
        pendingGaps = []
        closeReadHandle()
    }

    public var isDelivering: Bool { delivering }

    /// The next batches to send, in spool order, while fewer than `window` bytes are
    /// unacknowledged. Each batch has at most `maxRecords` records and about `maxBytes` of text.
    public func nextDeliveries(maxRecords: Int = 500, maxBytes: Int = 256 << 10, window: Int = 2 << 20) -> [SpoolDelivery] {
        guard delivering else { return [] }
        var out = pendingGaps
        pendingGaps = []
        var open: [String: (firstSeq: UInt64, records: [DVICProtocol.LogRecord], bytes: Int)] = [:]
        var openOrder: [String] = []
        var pendingBytes = 0

        func flush(_ key: String) {
            guard let batch = open.removeValue(forKey: key), !batch.records.isEmpty else { return }
            out.append(.records(key: key, firstSeq: batch.firstSeq, records: batch.records))
            inFlight[key, default: []].append((batch.firstSeq + UInt64(batch.records.count) - 1, batch.bytes))
            inFlightBytes += batch.bytes
            pendingBytes -= batch.bytes
        }

        while inFlightBytes + pendingBytes < window, let entry = readNextEntry() {
            let key = entry.key
            let sent = sentThrough[key] ?? 0
            guard entry.lastSeq > sent else { continue }
            let start = sent >= entry.firstSeq ? Int(sent - entry.firstSeq + 1) : 0
            for offset in start..<entry.records.count {
                let record = entry.records[offset]
                let seq = entry.firstSeq + UInt64(offset)
                let size = record.text.utf8.count + 16
                if let batch = open[key],
                    batch.firstSeq + UInt64(batch.records.count) != seq || batch.records.count >= maxRecords
                        || batch.bytes + size > maxBytes
                {
                    flush(key)
                }
                if open[key] == nil {
                    open[key] = (seq, [], 0)
                    openOrder.append(key)
                }
                open[key]!.records.append(record)
                open[key]!.bytes += size
                pendingBytes += size
            }
            sentThrough[key] = entry.lastSeq
        }
        for key in openOrder { flush(key) }
        return out
    }

    /// Streams whose source is gone and which are fully acknowledged.
    public func closableStreams() -> [String] {
        index.closableStreams()
    }

    /// Forgets a closed stream but its last sequence number (a file of the same name later
    /// numbers on, so the server never confuses it with the old one).
    public func retire(_ key: String) {
        let lastSeq = index.resume(for: key).lastSeq
        index.retire(key)
        appendJournal(.retired(key: key, lastSeq: lastSeq))
    }

    // MARK: - Durability

    /// Syncs what was written since the last call (see the type's documentation).
    public func flush() {
        if segmentDirty {
            if configuration.synchronizes && writeDescriptor >= 0 { fdatasync(writeDescriptor) }
            segmentDirty = false
        }
        if journalDirty {
            if configuration.synchronizes && journalDescriptor >= 0 { fdatasync(journalDescriptor) }
            journalDirty = false
        }
        if directoryDirty {
            if configuration.synchronizes { FileSystem.syncDirectory(containing: configuration.directory + "/x") }
            directoryDirty = false
        }
        if journalBytes > configuration.journalCompactionBytes { compactJournal() }
    }

    /// Bytes of records on disk.
    public var totalBytes: Int64 { index.totalBytes }
    public var segmentCount: Int { index.segments.count }

    /// The streams the spool knows (retired ones excluded), for inspection.
    public var streamKeys: [String] {
        index.streams.filter { !$0.value.retired }.keys.sorted()
    }

    /// The persisted checkpoint of a stream (what a restart falls back on once its records are
    /// released), for inspection.
    public func persistedCheckpoint(for key: String) -> SourceCheckpoint? {
        index.streams[key]?.persistedCheckpoint
    }

    public func acknowledged(for key: String) -> UInt64 {
        index.streams[key]?.acknowledged ?? 0
    }

    // MARK: - Segments

    private func segmentPath(_ id: UInt64) -> String {
        let hex = String(id, radix: 16)
        return "\(configuration.directory)/\(String(repeating: "0", count: max(0, 16 - hex.count)))\(hex).seg"
    }

    private func startSegment() throws(AgentError) {
        if writeDescriptor >= 0 {
            if segmentDirty && configuration.synchronizes { fdatasync(writeDescriptor) }
            closeDescriptor(writeDescriptor)
            writeDescriptor = -1
            segmentDirty = false
        }
        let id = (index.segments.last?.id ?? 0) + 1
        let path = segmentPath(id)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .io("cannot create \(path)", errno: errno) }
        writeDescriptor = descriptor
        index.addSegment(id: id)
        directoryDirty = true
    }

    /// Deletes segments of which nothing is owed. The segment being written is released too once
    /// it holds a fair amount, by starting a new one.
    private func releaseSegments() {
        for segment in index.segments where index.isReleasable(segment) {
            let isCurrent = segment.id == index.segments.last?.id
            if isCurrent {
                guard segment.bytes >= min(256 << 10, configuration.segmentBytes / 2) else { continue }
                do throws(AgentError) { try startSegment() } catch {
                    logger.warning("cannot start a spool segment", metadata: ["error": "\(error)"])
                    continue
                }
            }
            deleteSegment(segment)
        }
    }

    private func deleteSegment(_ segment: SpoolIndex.Segment) {
        for key in segment.streams.keys.sorted() {
            if let checkpoint = index.checkpointToPersist(key: key) { appendJournal(.checkpoint(key: key, checkpoint)) }
        }
        if readHandle?.segment == segment.id { closeReadHandle() }
        if let cursor, cursor.segment == segment.id {
            self.cursor = index.segments.first(where: { $0.id > segment.id }).map { ($0.id, 0) }
        }
        index.removeSegment(id: segment.id)
        FileSystem.remove(segmentPath(segment.id))
        directoryDirty = true
    }

    private func enforceCap() throws(AgentError) {
        while index.totalBytes > configuration.maxBytes {
            if index.segments.count == 1 { try startSegment() }
            guard let oldest = index.segments.first else { return }
            let drops = index.dropOldest()
            for drop in drops {
                droppedRecordCount += drop.count
                appendJournal(.dropped(key: drop.key, through: drop.firstSeq + drop.count - 1))
                if let checkpoint = index.checkpointToPersist(key: drop.key) {
                    appendJournal(.checkpoint(key: drop.key, checkpoint))
                }
                if delivering {
                    let sent = sentThrough[drop.key] ?? 0
                    let through = drop.firstSeq + drop.count - 1
                    if through > sent {
                        let first = max(sent + 1, drop.firstSeq)
                        pendingGaps.append(.gap(key: drop.key, firstSeq: first, count: through - first + 1))
                        sentThrough[drop.key] = through
                    }
                }
            }
            logger.warning(
                "log spool full: dropped its oldest segment",
                metadata: ["records": "\(drops.reduce(0) { $0 + $1.count })", "maxBytes": "\(configuration.maxBytes)"])
            if readHandle?.segment == oldest.id { closeReadHandle() }
            if let cursor, cursor.segment == oldest.id {
                self.cursor = index.segments.first.map { ($0.id, 0) }
            }
            FileSystem.remove(segmentPath(oldest.id))
            directoryDirty = true
        }
    }

    /// The next entry after the delivery cursor, skipping segments with nothing left to send.
    private func readNextEntry() -> SpoolCodec.RecordsEntry? {
        while let position = cursor {
            guard let segment = index.segments.first(where: { $0.id == position.segment }) else {
                cursor = index.segments.first(where: { $0.id > position.segment }).map { ($0.id, 0) }
                continue
            }
            let exhausted = segment.streams.allSatisfy { key, entry in entry.lastSeq <= (sentThrough[key] ?? 0) }
            if position.offset >= segment.bytes || exhausted {
                // The segment being written has nothing more yet: stay at its end.
                guard let next = index.segments.first(where: { $0.id > segment.id }) else {
                    if exhausted { cursor = (segment.id, segment.bytes) }
                    return nil
                }
                cursor = (next.id, 0)
                continue
            }
            guard let descriptor = readDescriptor(for: segment.id),
                let header = try? FileSystem.readBytes(descriptor, count: SpoolCodec.frameHeaderLength, at: position.offset),
                let length = SpoolCodec.payloadLength(header: header[...]),
                let payload = try? FileSystem.readBytes(descriptor, count: length, at: position.offset + Int64(SpoolCodec.frameHeaderLength)),
                payload.count == length, CRC32.checksum(payload) == SpoolCodec.checksum(header: header[...]),
                let entry = SpoolCodec.decodeRecords(payload[...])
            else {
                logger.error("unreadable spool entry; skipping the rest of the segment", metadata: ["segment": "\(segment.id)"])
                cursor = (segment.id, segment.bytes)
                continue
            }
            cursor = (segment.id, position.offset + Int64(SpoolCodec.frameHeaderLength + length))
            return entry
        }
        return nil
    }

    private func readDescriptor(for segment: UInt64) -> CInt? {
        if let readHandle, readHandle.segment == segment { return readHandle.descriptor }
        closeReadHandle()
        let descriptor = open(segmentPath(segment), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        readHandle = (segment, descriptor)
        return descriptor
    }

    private func closeReadHandle() {
        if let readHandle { closeDescriptor(readHandle.descriptor) }
        readHandle = nil
    }

    // MARK: - Loading

    private var journalPath: String { configuration.directory + "/streams.journal" }
    private var snapshotPath: String { configuration.directory + "/streams.snapshot" }

    private func loadState() throws(AgentError) {
        for path in [snapshotPath, journalPath] {
            guard let bytes = FileSystem.readFile(path, maxBytes: 256 << 20) else { continue }
            let (payloads, validLength) = SpoolCodec.payloads(in: bytes)
            for payload in payloads {
                if let entry = SpoolCodec.decodeState(payload) { index.apply(entry) }
            }
            if path == journalPath {
                if validLength < bytes.count {
                    logger.warning("cutting a torn entry off the spool journal", metadata: ["bytes": "\(bytes.count - validLength)"])
                    truncate(path, off_t(validLength))
                }
                journalBytes = Int64(validLength)
            }
        }
    }

    private func loadSegments() throws(AgentError) {
        let ids = (FileSystem.contentsOfDirectory(configuration.directory) ?? [])
            .filter { $0.hasSuffix(".seg") }
            .compactMap { UInt64($0.dropLast(4), radix: 16) }
            .sorted()
        for id in ids {
            index.addSegment(id: id)
            let path = segmentPath(id)
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw .io("cannot open \(path)", errno: errno) }
            defer { closeDescriptor(descriptor) }
            let size = FileSystem.status(descriptor: descriptor)?.size ?? 0
            var offset: Int64 = 0
            while offset < size {
                guard let header = try? FileSystem.readBytes(descriptor, count: SpoolCodec.frameHeaderLength, at: offset),
                    let length = SpoolCodec.payloadLength(header: header[...]),
                    let payload = try? FileSystem.readBytes(descriptor, count: length, at: offset + Int64(SpoolCodec.frameHeaderLength)),
                    payload.count == length, CRC32.checksum(payload) == SpoolCodec.checksum(header: header[...]),
                    let summary = SpoolCodec.decodeRecordsSummary(payload[...])
                else { break }
                let bytes = Int64(SpoolCodec.frameHeaderLength + length)
                index.recorded(
                    key: summary.key, firstSeq: summary.firstSeq, count: summary.count, checkpoint: summary.checkpoint,
                    bytes: bytes)
                offset += bytes
            }
            if offset < size {
                // A crash in the middle of a write: what follows the last whole entry is garbage.
                logger.warning("cutting a torn entry off a spool segment", metadata: ["segment": "\(id)", "bytes": "\(size - offset)"])
                truncate(path, off_t(offset))
            }
        }
        for segment in index.segments.dropLast() where index.isReleasable(segment) {
            deleteSegment(segment)
        }
        if let last = index.segments.last {
            let descriptor = open(segmentPath(last.id), O_WRONLY | O_APPEND | O_CLOEXEC)
            guard descriptor >= 0 else { throw .io("cannot open \(segmentPath(last.id))", errno: errno) }
            writeDescriptor = descriptor
        } else {
            try startSegment()
        }
    }

    private func openJournal() throws(AgentError) {
        let descriptor = open(journalPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .io("cannot open \(journalPath)", errno: errno) }
        journalDescriptor = descriptor
    }

    private func appendJournal(_ entry: SpoolCodec.StateEntry) {
        guard journalDescriptor >= 0 else { return }
        let bytes = SpoolCodec.encodeState(entry)
        do throws(AgentError) {
            try FileSystem.writeAll(journalDescriptor, bytes)
            journalBytes += Int64(bytes.count)
            journalDirty = true
        } catch {
            logger.error("cannot write the spool journal", metadata: ["error": "\(error)"])
        }
    }

    /// Rewrites the stream state as a snapshot and empties the journal. A crash between the two
    /// replays the journal over the new snapshot, which changes nothing (every entry is a maximum).
    private func compactJournal() {
        var bytes: [UInt8] = []
        for entry in index.stateEntries() { bytes += SpoolCodec.encodeState(entry) }
        do throws(AgentError) {
            try FileSystem.writeAtomically(bytes, to: snapshotPath, mode: 0o600)
        } catch {
            logger.error("cannot write the spool snapshot", metadata: ["error": "\(error)"])
            return
        }
        if ftruncate(journalDescriptor, 0) == 0 {
            journalBytes = 0
            if configuration.synchronizes { fdatasync(journalDescriptor) }
        }
    }
}
