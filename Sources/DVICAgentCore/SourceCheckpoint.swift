/// A position in a source (a file offset, a journal cursor) paired with the sequence number of
/// the last record before it: a source resuming there numbers its next record `seq + 1`.
public struct SourceCheckpoint: Sendable, Hashable {
    public var seq: UInt64
    /// Opaque to the spool: `FilePosition` text for files, the cursor for journald.
    public var position: String

    public init(seq: UInt64, position: String) {
        self.seq = seq
        self.position = position
    }
}
