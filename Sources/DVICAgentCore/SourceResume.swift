/// Where a source picks up after a restart: the spool's last checkpoint for its stream and the
/// stream's last sequence number.
public struct SourceResume: Sendable, Hashable {
    public var checkpoint: SourceCheckpoint?
    /// The highest sequence number the stream ever used (0 for a new stream).
    public var lastSeq: UInt64

    public init(checkpoint: SourceCheckpoint?, lastSeq: UInt64) {
        self.checkpoint = checkpoint
        self.lastSeq = lastSeq
    }

    public static let fresh = SourceResume(checkpoint: nil, lastSeq: 0)
}
