@_spi(Testing) @testable import DVICStore
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the SQLite store's WAL is copied into the file: by `run()`'s checkpoint loop,
/// not by the writer at COMMIT (SQLiteDatabase).
@Suite("SQLite checkpoints")
struct CheckpointTests {
    static func fileSize(_ path: String) -> Int {
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size]
        return (size as? Int) ?? (size as? UInt64).map(Int.init) ?? 0
    }

    /// About 6 MiB of log rows in 30 writes: above SQLite's default threshold of 1,000
    /// frames, below the writer's fallback.
    static func write(_ store: SQLiteFleetStore) async throws {
        let text = String(repeating: "checkpoint ", count: 18)
        for batch in 0..<30 {
            let rows = (0..<1_000).map { index in
                LogRow(nodeID: "n\(index % 50)", streamKey: "s", seq: Int64(batch * 1_000 + index + 1), timestamp: Int64(batch * 1_000 + index), level: 2, text: "\(text)\(index)")
            }
            _ = try await store.appendLogs(rows)
        }
    }

    @Test("the writer leaves the WAL to the loop, and the loop copies it into the file")
    func loopCopies() async throws {
        try await LogIndexTests.withStore(batch: 1_000_000) { store in
            try await Self.write(store)
            // No loop yet: the rows are in the WAL only; the file holds little more than the schema.
            let before = Self.fileSize(store.path)
            #expect(before < 1 << 20)
            #expect(Self.fileSize(store.path + "-wal") > 4 << 20)

            let running = Task { try await store.run() }
            var after = before
            for _ in 0..<100 where after < 4 << 20 {
                try await Task.sleep(for: .milliseconds(50))
                after = Self.fileSize(store.path)
            }
            #expect(after > 4 << 20)
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["n7"], limit: 1000)).count == 600)
            running.cancel()
        }
    }
}
