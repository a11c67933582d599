public import DVICProtocol

/// Records a source read in one go, numbered, with where the source resumes after them.
public struct LogChunk: Sendable {
    public var info: LogStreamInfo
    /// The sequence number of `records[0]`; the others follow one by one.
    public var firstSeq: UInt64
    public var records: [DVICProtocol.LogRecord]
    /// Where reading resumes once the records up to `checkpoint.seq` are stored. It may stop short
    /// of the last record: the pieces of a line that is not finished are re-read from the line's
    /// start after a restart (and get the same numbers again, so nothing is stored twice).
    public var checkpoint: SourceCheckpoint?

    public init(info: LogStreamInfo, firstSeq: UInt64, records: [DVICProtocol.LogRecord], checkpoint: SourceCheckpoint?) {
        self.info = info
        self.firstSeq = firstSeq
        self.records = records
        self.checkpoint = checkpoint
    }

    public var lastSeq: UInt64 { firstSeq + UInt64(records.count) - 1 }
}
