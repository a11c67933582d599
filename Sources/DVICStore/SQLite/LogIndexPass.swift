/// One bulk pass of the SQLite log side index (`SQLiteLogIndex`), split into steps by
/// node so that no single write holds the writer for long.
///
/// Why steps: a pass over 100,000 rows of 10,000 nodes rewrites one leaf page per node
/// in each side table, about 0.8 s on this machine once the tables hold millions of rows
/// (Benchmarks/README.md). Done in one transaction, every ingest write waited behind it,
/// and the fleet's ingest lag jumped every 5 s. Each step indexes the rows of a range of
/// node ids and rides along with one ingest transaction; `indexed_to` moves only when
/// the last step is done, and readers only trust the side tables up to it, so a half
/// done pass is never seen twice or missed.
struct LogIndexPass: Sendable, Hashable {
    /// Rows with `from < id <= to` are being indexed.
    let from: Int64
    let to: Int64
    /// Inclusive node-id ranges, one per step, in order.
    let groups: [ClosedRange<String>]
    private(set) var next = 0

    /// Steps of at most `ceil(nodes / steps)` consecutive node ids, over the distinct node
    /// ids (in any order) of the rows in the range.
    init(from: Int64, to: Int64, nodes: [String], steps: Int) {
        self.from = from
        self.to = to
        let sorted = Array(Set(nodes)).sorted()
        let size = max(1, (sorted.count + max(1, steps) - 1) / max(1, steps))
        groups = stride(from: 0, to: sorted.count, by: size).map { start in
            sorted[start]...sorted[min(sorted.count, start + size) - 1]
        }
    }

    var isDone: Bool { next >= groups.count }

    /// The node range of the next step, and moves past it.
    mutating func takeStep() -> ClosedRange<String>? {
        guard next < groups.count else { return nil }
        defer { next += 1 }
        return groups[next]
    }
}
