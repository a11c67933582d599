@_spi(Testing) @testable import DVICStore
import Synchronization
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The SQLite store writes stream marks once a second (`LogMarkLedger`) and rebuilds any
/// a stop lost from the rows: dedupe and resume points stay exact either way.
@Suite("SQLite log marks")
struct LogMarkTests {
    /// The rows of `log_marks` and its `saved_through`, read through a reader.
    static func table(_ store: SQLiteFleetStore) async throws -> (marks: [String: Int64], savedThrough: Int64) {
        try await store.database.read { connection throws(StoreError) in
            let marks = try connection.rows("SELECT node_id || '/' || stream_key, high_seq FROM log_marks") { ($0.string(0), $0.int64(1)) }
            let through = try connection.firstRow("SELECT saved_through FROM log_marks_state") { $0.int64(0) } ?? -1
            return (Dictionary(uniqueKeysWithValues: marks), through)
        }
    }

    @Test("marks wait for the interval, yet resume points and dedupe see them")
    func marksWait() async throws {
        let (directory, path) = try LogIndexTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await SQLiteFleetStore(path: path, logIndexBatch: 1_000, logMarksInterval: .seconds(3_600))
        _ = try await store.appendLogs(LogIndexTests.rows(node: "a", seqs: 1...5) + LogIndexTests.rows(node: "b", stream: "t", seqs: 1...3))
        // Nothing written to the table yet: the interval has not passed since open.
        #expect(try await Self.table(store).marks.isEmpty)
        #expect(try await store.resumePoints(nodeID: "a") == ["s": 5])
        #expect(try await store.resumePoints(nodeID: "b") == ["t": 3])
        // A replay is dropped although its marks are in no table: with the bounded cache
        // started over (as past `cachedMarksLimit` streams), they are read from the ledger.
        store.logMarks.withLock { $0.removeAll() }
        let replay = try await store.appendLogs(LogIndexTests.rows(node: "a", seqs: 3...7))
        #expect(replay.inserted == 2)
        #expect(replay.duplicates == 3)
        #expect(try await store.resumePoints(nodeID: "a") == ["s": 7])
        await store.close()
    }

    @Test("with no interval every commit writes the marks and how far they cover")
    func zeroIntervalWritesEachCommit() async throws {
        try await LogIndexTests.withStoreAt { path in
            let store = try await SQLiteFleetStore(path: path, logIndexBatch: 1_000, logMarksInterval: .zero)
            _ = try await store.appendLogs(LogIndexTests.rows(node: "a", seqs: 1...5))
            #expect(try await Self.table(store).marks == ["a/s": 5])
            #expect(try await Self.table(store).savedThrough == 5)
            _ = try await store.appendLogs(LogIndexTests.rows(node: "a", seqs: 4...6) + LogIndexTests.rows(node: "b", seqs: 1...1))
            #expect(try await Self.table(store).marks == ["a/s": 6, "b/s": 1])
            #expect(try await Self.table(store).savedThrough == 7)
            await store.close()
        }
    }

    @Test("marks lost at a stop are rebuilt from the rows at open, and replays stay duplicates")
    func rebuiltAtOpen() async throws {
        try await LogIndexTests.withStoreAt { path in
            // The first commit is due (the interval counts from open) only with a zero
            // interval; this store never writes its marks, as if it had been killed.
            var store = try await SQLiteFleetStore(path: path, logIndexBatch: 4, logMarksInterval: .seconds(3_600))
            _ = try await store.appendLogs(LogIndexTests.rows(node: "a", seqs: 1...6))
            _ = try await store.appendLogs(LogIndexTests.rows(node: "b", seqs: 1...2) + LogIndexTests.rows(node: "a", stream: "u", seqs: 10...11))
            #expect(try await Self.table(store).marks.isEmpty)
            await store.close()

            store = try await SQLiteFleetStore(path: path, logIndexBatch: 4, logMarksInterval: .seconds(3_600))
            #expect(try await Self.table(store).marks == ["a/s": 6, "a/u": 11, "b/s": 2])
            #expect(try await Self.table(store).savedThrough == 10)
            #expect(try await store.resumePoints(nodeID: "a") == ["s": 6, "u": 11])
            // Every row sent again, plus one new: only the new one is stored.
            let replay = try await store.appendLogs(LogIndexTests.rows(node: "a", seqs: 1...7) + LogIndexTests.rows(node: "b", seqs: 1...2))
            #expect(replay.inserted == 1)
            #expect(replay.duplicates == 8)
            #expect(try await store.logStreamCounts(nodeID: nil) == [
                LogStreamCount(nodeID: "a", streamKey: "s", rows: 7, distinctSeqs: 7, minSeq: 1, maxSeq: 7),
                LogStreamCount(nodeID: "a", streamKey: "u", rows: 2, distinctSeqs: 2, minSeq: 10, maxSeq: 11),
                LogStreamCount(nodeID: "b", streamKey: "s", rows: 2, distinctSeqs: 2, minSeq: 1, maxSeq: 2),
            ])
            await store.close()
        }
    }

    @Test("a deleted node's waiting marks are not written back")
    func deletedNodeForgotten() async throws {
        try await LogIndexTests.withStoreAt { path in
            let store = try await SQLiteFleetStore(path: path, logIndexBatch: 1_000, logMarksInterval: .seconds(3_600))
            _ = try await store.appendLogs(LogIndexTests.rows(node: "gone", seqs: 1...3) + LogIndexTests.rows(node: "kept", seqs: 1...2))
            _ = try await store.deleteNode(id: "gone")
            #expect(try await store.resumePoints(nodeID: "gone").isEmpty)
            await store.close()
            let reopened = try await SQLiteFleetStore(path: path, logIndexBatch: 1_000, logMarksInterval: .seconds(3_600))
            #expect(try await Self.table(reopened).marks == ["kept/s": 2])
            // The node's stream starts over, as before a delete.
            #expect(try await reopened.appendLogs(LogIndexTests.rows(node: "gone", seqs: 1...1)).inserted == 1)
            await reopened.close()
        }
    }

    @Test("a schema-3 file's marks cover all its rows after the migration")
    func migratesSchemaThree() async throws {
        try await LogIndexTests.withStoreAt { path in
            try SQLiteFleetStore.makeDatabase(
                path: path, schemaVersion: 3,
                then: """
                    INSERT INTO logs (id, node_id, stream_key, seq, ts, level, text) VALUES (1, 'a', 's', 1, 100, 2, 'one'), (2, 'a', 's', 2, 200, 2, 'two');
                    INSERT INTO log_marks (node_id, stream_key, high_seq) VALUES ('a', 's', 9);
                    """)
            let store = try await SQLiteFleetStore(path: path, logIndexBatch: 1_000)
            // The table's mark (above the rows: those were pruned) is kept, not rebuilt lower.
            #expect(try await Self.table(store).marks == ["a/s": 9])
            #expect(try await Self.table(store).savedThrough == 2)
            #expect(try await store.resumePoints(nodeID: "a") == ["s": 9])
            await store.close()
        }
    }
}
