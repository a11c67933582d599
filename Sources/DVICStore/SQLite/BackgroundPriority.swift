#if canImport(Glibc)
import Glibc
#endif

/// The scheduling priority of the SQLite writer and checkpointer threads: a nice value
/// `niceIncrement` above the thread that opened the store (on Linux, where nice is a
/// per-thread attribute).
///
/// Why: the writer and the checkpointer do throughput work (group commits of log
/// batches, roll-up flushes, copying the WAL into the file) that a second's delay does
/// not hurt, while the event loops and the cooperative pool carry every connection's
/// latency: a command's round trip, a terminal's echo, a ping. With the same weight,
/// the writer (a quarter of a core at 10,000 nodes) took its share out of theirs
/// whenever it woke. At nice +5 the loops go first and the writer takes the rest; it
/// still gets every idle cycle, so nothing it stores is lost or refused, only later
/// when the machine is saturated. Measured with `tools/loadtest fleet` on two cores
/// (Benchmarks/README.md, sixth round): a broadcast's p50 fell from 0.92 s to 0.57 s over
/// 60 s, and to a median of 0.84 s against 1.09-1.22 s over 5 minutes, with ingest lag
/// unchanged. Readers keep the normal priority: a person waits on them.
enum BackgroundPriority {
    /// Nice +5: the writer keeps about a third of a normal thread's weight when every
    /// thread wants the CPU, and all of it otherwise.
    static let niceIncrement: Int32 = 5

    /// Lowers the calling thread by `niceIncrement` (capped at 19, the lowest). Where the
    /// system has no per-thread nice or refuses, the thread runs as before: a slower
    /// broadcast under load, never a failure.
    static func lowerCallingThread() {
        #if os(Linux)
        guard let current = callingThreadNice() else { return }
        // `who` 0 is the calling thread, not the process: Linux keeps nice per thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(19, current + niceIncrement))
        #endif
    }

    /// The calling thread's nice value, or nil where it cannot be read.
    static func callingThreadNice() -> Int32? {
        #if os(Linux)
        // getpriority may return -1 as a value: errno tells an error apart.
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        if value == -1 && errno != 0 { return nil }
        return value
        #else
        return nil
        #endif
    }
}
