@_spi(Testing) @testable import DVICStore
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The SQLite store's bulk-built per-node log index (SQLiteLogIndex): what the generic
/// store suites cannot see, since they go through the API only.
@Suite("SQLite log side index")
struct LogIndexTests {
    static func rows(node: String, stream: String = "s", seqs: ClosedRange<Int64>) -> [LogRow] {
        seqs.map { LogRow(nodeID: node, streamKey: stream, seq: $0, timestamp: 1_000 + $0, level: 2, text: "\(node) line \($0)") }
    }

    static func temporaryPath() throws -> (directory: String, path: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-logindex-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (directory, directory + "/dvic.sqlite")
    }

    /// A fresh file's path for `body`, removed afterwards.
    static func withStoreAt(_ body: (String) async throws -> Void) async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(path)
    }

    /// A store on a fresh file (made by `prepare` first, if given) that passes every
    /// `batch` rows, closed and removed afterwards.
    static func withStore(batch: Int64, prepare: (String) throws -> Void = { _ in }, _ body: (SQLiteFleetStore) async throws -> Void) async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try prepare(path)
        let store = try await SQLiteFleetStore(path: path, logIndexBatch: batch)
        do {
            try await body(store)
            await store.close()
        } catch {
            await store.close()
            throw error
        }
    }

    @Test("a schema-1 file keeps its rows, marks and dedupe after the migration")
    func migratesSchemaOne() async throws {
        // Rows as schema 1 stored them, with its unique identity index, interleaved across
        // two nodes and out of time order within one.
        try await Self.withStore(batch: 1_000, prepare: { path in try SQLiteFleetStore.makeDatabase(
            path: path, schemaVersion: 1,
            then: """
                INSERT INTO logs (node_id, stream_key, seq, ts, level, text) VALUES
                    ('a', 's', 1, 100, 2, 'alpha one'), ('b', 's', 1, 150, 2, 'beta one'),
                    ('a', 's', 2, 300, 2, 'alpha two'), ('a', 's', 3, 200, 2, 'alpha three'),
                    ('b', 's', 2, 250, 2, 'beta two');
                INSERT INTO log_marks (node_id, stream_key, high_seq) VALUES ('a', 's', 3), ('b', 's', 2);
                """) }) { store in
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["a"])).map(\.seq) == [2, 3, 1])
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["b"], since: 200)).map(\.text) == ["beta two"])
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["a", "b"], text: "two")).map(\.nodeID) == ["a", "b"])
            #expect(try await store.resumePoints(nodeID: "a") == ["s": 3])
            // A replay of migrated rows is dropped; what follows is stored.
            let replay = try await store.appendLogs(Self.rows(node: "a", seqs: 2...5))
            #expect(replay.inserted == 2)
            #expect(replay.duplicates == 2)
            #expect(try await store.logStreamCounts(nodeID: nil) == [
                LogStreamCount(nodeID: "a", streamKey: "s", rows: 5, distinctSeqs: 5, minSeq: 1, maxSeq: 5),
                LogStreamCount(nodeID: "b", streamKey: "s", rows: 2, distinctSeqs: 2, minSeq: 1, maxSeq: 2),
            ])
        }
    }

    @Test("ids of deleted newest rows are not reused below the indexed mark")
    func noIDReuse() async throws {
        try await Self.withStore(batch: 4) { store in
            _ = try await store.appendLogs(Self.rows(node: "old", seqs: 1...2))
            // Four more rows: a pass indexes all six, then the newest four are deleted.
            _ = try await store.appendLogs(Self.rows(node: "gone", seqs: 1...4))
            #expect(try await store.deleteNode(id: "gone") == false)
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["gone"])).isEmpty)
            // SQLite alone would hand these rows ids 3 and 4, at or below the mark, and no
            // pass would ever index them: a node query would not find them.
            _ = try await store.appendLogs(Self.rows(node: "new", seqs: 1...2))
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["new"])).map(\.seq) == [2, 1])
            _ = try await store.appendLogs(Self.rows(node: "new", seqs: 3...6))
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["new"], limit: 3)).map(\.seq) == [6, 5, 4])
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["new"])).count == 6)
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["old"])).count == 2)
        }
    }

    @Test("a node's newest rows come first across the indexed rows and the tail")
    func mergesIndexedAndTail() async throws {
        try await Self.withStore(batch: 10) { store in
            // 12 rows of two nodes: one pass covers the first 10, two wait in the tail.
            var rows: [LogRow] = []
            for seq in Int64(1)...6 {
                rows += Self.rows(node: "x", seqs: seq...seq) + Self.rows(node: "y", seqs: seq...seq)
            }
            _ = try await store.appendLogs(Array(rows[0..<10]))
            _ = try await store.appendLogs(Array(rows[10...]))
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["x"])).map(\.seq) == [6, 5, 4, 3, 2, 1])
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["y"], limit: 2)).map(\.seq) == [6, 5])
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["y"], since: 1_003, until: 1_006)).map(\.seq) == [5, 4, 3])
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["x", "y"], text: "line 6")).map(\.nodeID).sorted() == ["x", "y"])
        }
    }
}

extension LogIndexTests {
    @Test("a pass under way resumes after a restart, staged again, and indexes every row once")
    func passResumesAfterRestart() async throws {
        let (directory, path) = try Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Two nodes a step: 2 × steps nodes × 5 rows start a pass, one step per write.
        let steps = SQLiteLogIndex.steps
        let nodes = 2 * steps
        let passRows = Int64(nodes * 5)
        var store = try await SQLiteFleetStore(path: path, logIndexBatch: passRows)
        var rows: [LogRow] = []
        for seq in Int64(1)...5 {
            for node in 0..<nodes { rows += Self.rows(node: "n\(node)", seqs: seq...seq) }
        }
        _ = try await store.appendLogs(rows)
        for seq in Int64(6)...8 { _ = try await store.appendLogs(Self.rows(node: "n0", seqs: seq...seq)) }
        func state(_ store: SQLiteFleetStore) async throws -> (indexedTo: Int64, passTo: Int64?, ident: Int64, nodeTS: Int64) {
            try await store.database.read { connection throws(StoreError) in
                let state = try SQLiteLogIndex.state(connection)
                let ident = try connection.firstRow("SELECT count(*) FROM log_ident") { $0.int64(0) } ?? -1
                let nodeTS = try connection.firstRow("SELECT count(*) FROM log_node_ts") { $0.int64(0) } ?? -1
                return (state.indexedTo, state.passTo, ident, nodeTS)
            }
        }
        let midway = try await state(store)
        #expect(midway.indexedTo == 0)
        #expect(midway.passTo == passRows)
        // Four steps of two nodes each, in node-id order (n0, n1, n10, n11, …).
        #expect(midway.ident == 4 * 2 * 5)
        await store.close()

        // A new connection has no staged rows and no plan: both are made again, and the
        // steps left take one write each.
        store = try await SQLiteFleetStore(path: path, logIndexBatch: passRows)
        let more = Int64(steps - 4)
        for seq in Int64(9)...(8 + more) { _ = try await store.appendLogs(Self.rows(node: "n1", seqs: seq...seq)) }
        let done = try await state(store)
        #expect(done.indexedTo == passRows)
        #expect(done.passTo == nil)
        #expect(done.ident == passRows)
        #expect(done.nodeTS == passRows)
        for node in 0..<nodes {
            let expected = node == 0 ? 8 : node == 1 ? 5 + Int(more) : 5
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["n\(node)"])).count == expected)
        }
        #expect(try await store.logStreamCounts(nodeID: nil).map(\.rows).reduce(0, +) == passRows + 3 + more)
        await store.close()
    }
}

@Suite("Log index pass steps")
struct LogIndexPassTests {
    @Test("steps cover every node once, in order, in at most the asked number")
    func stepsCoverEveryNode() {
        let nodes = (0..<25).map { $0 < 10 ? "n-0\($0)" : "n-\($0)" }.shuffled() + ["n-03", "n-17"]
        let pass = LogIndexPass(from: 10, to: 99, nodes: nodes, steps: 10)
        var ends: [String] = []
        var after: String?
        var last = false
        while let step = pass.step(after: after) {
            #expect(!last)
            ends.append(step.end)
            after = step.end
            last = step.isLast
        }
        #expect(last)
        #expect(ends.count == 9)
        #expect(ends.last == "n-24")
        // Each step takes the nodes after the previous end up to its own: three at a time.
        #expect(ends == ["n-02", "n-05", "n-08", "n-11", "n-14", "n-17", "n-20", "n-23", "n-24"])
        // Resuming from a saved node id that is not an end (another plan's) goes on from there.
        #expect(pass.step(after: "n-09")?.end == "n-11")
    }

    @Test("one node is one step; no rows, no step")
    func smallPasses() {
        let one = LogIndexPass(from: 0, to: 5, nodes: ["a", "a"], steps: 10)
        #expect(one.step(after: nil)?.end == "a")
        #expect(one.step(after: nil)?.isLast == true)
        #expect(one.step(after: "a") == nil)
        let none = LogIndexPass(from: 0, to: 5, nodes: [], steps: 10)
        #expect(none.step(after: nil) == nil)
    }
}
