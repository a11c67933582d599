/// The node plan of one bulk pass of the SQLite log side index (`SQLiteLogIndex`): the
/// pass is split into steps by node so that no single write holds the writer for long.
///
/// Why steps: a pass over 100,000 rows of 10,000 nodes rewrites a few leaf pages per
/// node in each side table: 0.7 s with its commit on this machine once the tables hold
/// 3 M rows (Benchmarks/sqlite-log-index.py; the page count is measured by
/// Benchmarks/sqlite-side-pass-growth.py). Done in one transaction, every ingest write
/// waited behind it, and the fleet's ingest lag jumped at every pass.
///
/// Where a pass stands is not kept here but in `log_index_state` (`pass_to`, `pass_after`),
/// written in the same transaction as each step, so a write that rolls back takes its step
/// back with it. This plan only says where the steps end; it is derived from the rows and
/// may be dropped and planned again at any time.
struct LogIndexPass: Sendable, Hashable {
    /// The rows the plan is for: `from < id <= to`.
    let from: Int64
    let to: Int64
    /// The last node id of each step, ascending.
    let ends: [String]

    /// Steps of at most `ceil(nodes / steps)` consecutive node ids, over the distinct node
    /// ids (in any order) of the rows in the range.
    init(from: Int64, to: Int64, nodes: [String], steps: Int) {
        self.from = from
        self.to = to
        let sorted = Array(Set(nodes)).sorted()
        let size = max(1, (sorted.count + max(1, steps) - 1) / max(1, steps))
        ends = stride(from: size - 1, to: sorted.count + size - 1, by: size).map { sorted[min($0, sorted.count - 1)] }
    }

    /// The last node of the step after the nodes up to `after` (nil: the first step), and
    /// whether that step is the pass's last. Nil when no step is left.
    func step(after: String?) -> (end: String, isLast: Bool)? {
        guard let index = after.map({ done in ends.firstIndex { $0 > done } }) ?? (ends.isEmpty ? nil : 0) else { return nil }
        return (ends[index], index == ends.count - 1)
    }
}
