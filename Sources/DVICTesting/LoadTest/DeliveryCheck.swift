/// Nothing lost, nothing twice: compares what the nodes sent with what the server
/// stored (`GET /v1/admin/log-counts`). Pure, so the accounting is testable alone.
///
/// Each node numbers its lines 1…L on its stream and the store keys rows by
/// (node, stream, seq). A stream is right when it holds exactly L rows with L distinct
/// seqs 1…L. Fewer distinct seqs are losses; rows beyond the distinct seqs, or seqs
/// beyond L (a line sent again under a new number), are duplicates.
public struct DeliveryCheck: Sendable, Codable, Hashable {
    /// One stream as the server reports it.
    public struct Stored: Sendable, Codable, Hashable {
        public var rows: Int64
        public var distinctSeqs: Int64
        public var minSeq: Int64
        public var maxSeq: Int64
        public init(rows: Int64, distinctSeqs: Int64, minSeq: Int64, maxSeq: Int64) {
            self.rows = rows
            self.distinctSeqs = distinctSeqs
            self.minSeq = minSeq
            self.maxSeq = maxSeq
        }
    }

    /// Stream identity: node id and stream key.
    public struct StreamID: Sendable, Codable, Hashable {
        public var node: String
        public var stream: String
        public init(node: String, stream: String) {
            self.node = node
            self.stream = stream
        }
    }

    public var linesSent: Int64 = 0
    public var rowsStored: Int64 = 0
    public var lost: Int64 = 0
    public var duplicated: Int64 = 0
    public var streams = 0
    /// The first few streams that are wrong, for people.
    public var problems: [String] = []

    public var passed: Bool { lost == 0 && duplicated == 0 }

    /// - Parameters:
    ///   - sent: lines each stream sent (every stream the load test drove, zeros included).
    ///   - stored: the server's counts; streams the load test did not drive are ignored
    ///     (another writer, e.g. a local agent).
    public init(sent: [StreamID: Int64], stored: [StreamID: Stored]) {
        for (id, lines) in sent.sorted(by: { ($0.key.node, $0.key.stream) < ($1.key.node, $1.key.stream) }) {
            streams += 1
            linesSent += lines
            let found = stored[id] ?? Stored(rows: 0, distinctSeqs: 0, minSeq: 0, maxSeq: 0)
            rowsStored += found.rows
            // Seqs above L were numbers the node never gave a line of its own; seqs
            // below 1 are never used.
            let outside = found.rows == 0 ? 0 : max(0, found.maxSeq - lines) + max(0, 1 - found.minSeq)
            let inside = max(0, found.distinctSeqs - outside)
            let missing = max(0, lines - inside)
            let extra = (found.rows - found.distinctSeqs) + outside
            lost += missing
            duplicated += extra
            if (missing > 0 || extra > 0), problems.count < 10 {
                problems.append("\(id.node)/\(id.stream): sent \(lines), stored \(found.rows) rows, \(found.distinctSeqs) distinct seqs \(found.minSeq)…\(found.maxSeq)")
            }
        }
    }
}
