@_spi(Testing) @testable import DVICStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The SQLite writer and checkpointer run at a lower priority than the rest of the
/// server, readers at the same (`BackgroundPriority`).
@Suite("SQLite thread priorities")
struct BackgroundPriorityTests {
    @Test("the writer and the checkpointer run 5 nice levels lower than the thread that opened the store; readers do not")
    func backgroundThreadsYield() async throws {
        #if os(Linux)
        // The pools' threads inherit the nice value of the thread that starts them.
        let base = try #require(BackgroundPriority.callingThreadNice())
        try await LogIndexTests.withStore(batch: 1_000) { store in
            let values = await store.database.threadNiceValues()
            let lowered = min(19, base + BackgroundPriority.niceIncrement)
            #expect(values.writer == lowered)
            #expect(values.checkpointer == lowered)
            #expect(values.reader == base)
            // Still the writer that stores: a write after the change commits as before.
            let appended = try await store.appendLogs([LogRow(nodeID: "n", streamKey: "s", seq: 1, timestamp: 1, level: 2, text: "after")])
            #expect(appended.inserted == 1)
        }
        // Only those threads: the caller's own priority is untouched.
        #expect(BackgroundPriority.callingThreadNice() == base)
        #endif
    }
}
