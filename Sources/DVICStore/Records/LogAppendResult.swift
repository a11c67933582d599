/// What `appendLogs` stored. Returned only after the transaction committed, so every
/// number here is durable.
public struct LogAppendResult: Hashable, Sendable {
    /// Rows that were new.
    public var inserted: Int
    /// Rows whose (nodeID, streamKey, seq) was stored already (including repeats
    /// within the same call); they were ignored.
    public var duplicates: Int
    /// For every stream present in the call: the highest seq ever stored for it, after
    /// this call. An agent may drop everything up to this from its spool.
    public var highWaterMarks: [LogStreamID: Int64]

    public init(inserted: Int, duplicates: Int, highWaterMarks: [LogStreamID: Int64]) {
        self.inserted = inserted
        self.duplicates = duplicates
        self.highWaterMarks = highWaterMarks
    }
}
