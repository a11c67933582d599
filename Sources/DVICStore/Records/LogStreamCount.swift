/// What is stored of one log stream, for operators and the load test's
/// nothing-lost-nothing-twice check: counting rows through the search API would
/// take minutes for millions of rows, this is one index scan.
public struct LogStreamCount: Hashable, Sendable {
    public var nodeID: String
    public var streamKey: String
    /// Rows stored.
    public var rows: Int64
    /// Distinct seqs among them (equal to `rows` unless the identity index is gone).
    public var distinctSeqs: Int64
    public var minSeq: Int64
    public var maxSeq: Int64

    public init(nodeID: String, streamKey: String, rows: Int64, distinctSeqs: Int64, minSeq: Int64, maxSeq: Int64) {
        self.nodeID = nodeID
        self.streamKey = streamKey
        self.rows = rows
        self.distinctSeqs = distinctSeqs
        self.minSeq = minSeq
        self.maxSeq = maxSeq
    }
}
