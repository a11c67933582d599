/// The writes waiting for the SQLite writer thread, in two lanes: `bulk` for the log
/// ingest and roll-up flushes, `prompt` for everything else, which goes first.
///
/// Why: the single writer is busy most of the time under a large fleet, and the bulk
/// writes each hold it for a few hundred milliseconds. Strictly first come, first served,
/// a small write that a person waits on (a command's audit record and its row, a login's
/// session) queued behind the bulk write in flight and the next one already queued. A
/// broadcast writes two such records before the command goes out. With lanes it waits
/// for the write in flight only. Bulk writes cannot starve: prompt writes are few and small.
struct WriteLanes<Job> {
    enum Lane: Sendable {
        case prompt
        case bulk
    }

    private var prompt: [Job] = []
    private var bulk: [Job] = []

    var count: Int { prompt.count + bulk.count }

    mutating func push(_ job: Job, lane: Lane) {
        switch lane {
        case .prompt: prompt.append(job)
        case .bulk: bulk.append(job)
        }
    }

    /// The next job to run: the oldest prompt one, else the oldest bulk one.
    mutating func pop() -> Job? {
        if !prompt.isEmpty { return prompt.removeFirst() }
        if !bulk.isEmpty { return bulk.removeFirst() }
        return nil
    }
}
