import DVICLogFormat
import DVICProtocol

/// One log stream read from a path, across rotations and truncations, numbering its records.
///
/// - Truncation (the size drops below our offset): read again from 0.
/// - Rotation (the path names another inode, as after rename-and-create): the old inode is read
///   to its end and its last partial line handed on, then the new file is read from 0, in the
///   same stream with the numbers going on.
/// - Deletion: the old inode is read to its end, then the stream is gone.
///
/// An idle file whose writer has exited can be put to sleep (`sleepIfIdle`): its descriptor is
/// closed and it is reopened when its size or inode changes, so old logs cost no descriptors.
final class FollowedFile {
    let path: String
    let format: FileTail.Format
    let maxLineBytes: Int
    private(set) var info: LogStreamInfo
    private(set) var tail: FileTail?
    /// The sequence number of the next record.
    private(set) var nextSeq: UInt64
    /// Where a sleeping file resumes.
    private var position: FilePosition?
    private(set) var isGone = false

    init(path: String, info: LogStreamInfo, format: FileTail.Format, resume: SourceResume, maxLineBytes: Int) {
        self.path = path
        self.info = info
        self.format = format
        self.maxLineBytes = maxLineBytes
        let saved = resume.checkpoint.flatMap { FilePosition($0.position) }
        let current = FileSystem.status(path)
        if let saved, let checkpoint = resume.checkpoint, let current, current.identity == saved.identity,
            saved.offset <= current.size
        {
            // The same file as before the restart: resume there, numbering as before.
            position = saved
            nextSeq = checkpoint.seq + 1
        } else {
            // A new file, or one that changed while we were away: read it whole, numbering on.
            position = nil
            nextSeq = resume.lastSeq + 1
        }
    }

    var header: LogFileHeader? { tail?.header ?? lastHeader }
    private var lastHeader: LogFileHeader?
    var isSleeping: Bool { tail == nil && !isGone }
    var hasPartialLine: Bool { tail?.hasPartialLine ?? false }

    struct PollResult {
        var chunks: [LogChunk] = []
        var infoChanged = false
        /// More bytes wait beyond the read budget.
        var more = false
    }

    /// Reads what is new. `status` is the path's current `stat` (nil when it is gone);
    /// `finishPartial` hands on a last line without newline (the writer has exited).
    func poll(now: Int64, status: FileStatus?, finishPartial: Bool, budget: Int, scratch: inout [UInt8]) -> PollResult {
        var result = PollResult()
        guard !isGone else { return result }
        if tail == nil {
            guard let status else {
                isGone = true
                return result
            }
            if let position, position.identity == status.identity, position.offset == status.size {
                return result  // asleep and unchanged
            }
            guard let opened = FileTail(path: path, format: format, position: position, maxLineBytes: maxLineBytes) else {
                return result
            }
            tail = opened
            position = nil
            if let header = opened.header { apply(header, into: &result) }
        }
        guard let current = tail else { return result }
        var output = current.read(now: now, budget: budget, scratch: &scratch)
        if output.headerChanged, let header = current.header { apply(header, into: &result) }
        result.more = output.hitBudget
        let replaced = status.map { $0.identity != current.identity } ?? true
        if replaced && !output.hitBudget {
            // Rotated or deleted: the old inode is finished.
            output.append(current.finish(now: now), offsetBy: output.records.count)
            emit(output, identity: current.identity, into: &result)
            current.close()
            tail = nil
            if let status, status.isRegularFile {
                let fresh = FileTail(path: path, format: format, position: nil, maxLineBytes: maxLineBytes)
                tail = fresh
                if let fresh {
                    let next = fresh.read(now: now, budget: budget, scratch: &scratch)
                    if next.headerChanged, let header = fresh.header { apply(header, into: &result) }
                    result.more = next.hitBudget
                    emit(next, identity: fresh.identity, into: &result)
                }
            } else {
                isGone = true
            }
            return result
        }
        if finishPartial && !output.hitBudget && current.atEndOfFile && current.hasPartialLine {
            output.append(current.finish(now: now), offsetBy: output.records.count)
        }
        emit(output, identity: current.identity, into: &result)
        return result
    }

    /// Closes the descriptor of a file that is read to its end with nothing held back.
    func sleepIfIdle() {
        guard let current = tail, current.atEndOfFile, !current.hasPartialLine else { return }
        lastHeader = current.header
        position = FilePosition(identity: current.identity, offset: current.readOffset)
        current.close()
        tail = nil
    }

    func update(info: LogStreamInfo) {
        self.info = info
    }

    private func apply(_ header: LogFileHeader, into result: inout PollResult) {
        lastHeader = header
        var updated = info
        updated.name = header.name
        updated.pid = UInt32(clamping: header.pid)
        updated.exe = header.exe
        updated.argv = header.argv
        updated.user = header.user
        updated.started = header.startedMilliseconds ?? 0
        if updated != info {
            info = updated
            result.infoChanged = true
        }
    }

    private func emit(_ output: FileTail.Output, identity: FileIdentity, into result: inout PollResult) {
        guard !output.records.isEmpty else { return }
        let firstSeq = nextSeq
        let checkpoint = output.checkpoint.map { checkpoint in
            SourceCheckpoint(
                seq: firstSeq + UInt64(checkpoint.recordCount) - 1,
                position: FilePosition(identity: identity, offset: checkpoint.offset).description)
        }
        result.chunks.append(LogChunk(info: info, firstSeq: firstSeq, records: output.records, checkpoint: checkpoint))
        nextSeq += UInt64(output.records.count)
    }
}
