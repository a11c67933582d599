import DVICStore
import Testing

@Suite("Log ingest")
struct LogAppendTests {
    static func rows(node: String = "n1", stream: String, seqs: ClosedRange<Int64>, level: Int = 2) -> [LogRow] {
        seqs.map { seq in
            LogRow(nodeID: node, streamKey: stream, seq: seq, timestamp: 1_000_000 + seq, level: level, text: "\(stream) line \(seq)")
        }
    }

    @Test("per-stream counts: rows, distinct seqs, seq range, by node", arguments: StoreBackend.all)
    func streamCounts(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            _ = try await store.appendLogs(Self.rows(stream: "a", seqs: 1...40) + Self.rows(stream: "b", seqs: 5...9) + Self.rows(node: "n2", stream: "a", seqs: 3...3))
            // A resend changes nothing; a gap shows as distinct seqs below the range.
            _ = try await store.appendLogs(Self.rows(stream: "a", seqs: 30...40) + Self.rows(stream: "b", seqs: 12...12))
            #expect(try await store.logStreamCounts(nodeID: nil) == [
                LogStreamCount(nodeID: "n1", streamKey: "a", rows: 40, distinctSeqs: 40, minSeq: 1, maxSeq: 40),
                LogStreamCount(nodeID: "n1", streamKey: "b", rows: 6, distinctSeqs: 6, minSeq: 5, maxSeq: 12),
                LogStreamCount(nodeID: "n2", streamKey: "a", rows: 1, distinctSeqs: 1, minSeq: 3, maxSeq: 3),
            ])
            #expect(try await store.logStreamCounts(nodeID: "n2") == [LogStreamCount(nodeID: "n2", streamKey: "a", rows: 1, distinctSeqs: 1, minSeq: 3, maxSeq: 3)])
            #expect(try await store.logStreamCounts(nodeID: "nobody") == [])
        }
    }

    @Test("duplicates are stored once; counts and high-water marks", arguments: StoreBackend.all)
    func dedupe(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let first = try await store.appendLogs(Self.rows(stream: "a", seqs: 1...100) + Self.rows(stream: "b", seqs: 1...10))
            #expect(first.inserted == 110)
            #expect(first.duplicates == 0)
            #expect(first.highWaterMarks == [
                LogStreamID(nodeID: "n1", streamKey: "a"): 100,
                LogStreamID(nodeID: "n1", streamKey: "b"): 10,
            ])

            // Overlapping resend, plus repeats inside the same call.
            let resend = Self.rows(stream: "a", seqs: 50...150) + Self.rows(stream: "a", seqs: 140...150)
            let second = try await store.appendLogs(resend)
            #expect(second.inserted == 50)
            #expect(second.duplicates == 51 + 11)
            #expect(second.highWaterMarks == [LogStreamID(nodeID: "n1", streamKey: "a"): 150])

            // An old resend reports the stream's real mark, not the batch's.
            let old = try await store.appendLogs(Self.rows(stream: "b", seqs: 2...3))
            #expect(old.inserted == 0)
            #expect(old.highWaterMarks == [LogStreamID(nodeID: "n1", streamKey: "b"): 10])

            #expect(try await store.searchLogs(LogQuery(streamKeys: ["a"], limit: 10_000)).count == 150)
            #expect(try await store.resumePoints(nodeID: "n1") == ["a": 150, "b": 10])
            #expect(try await store.resumePoints(nodeID: "n2") == [:])

            let empty = try await store.appendLogs([])
            #expect(empty == LogAppendResult(inserted: 0, duplicates: 0, highWaterMarks: [:]))
        }
    }

    @Test("a deleted node's streams start over; other nodes keep their marks", arguments: StoreBackend.all)
    func marksAfterDelete(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            _ = try await store.appendLogs(Self.rows(stream: "a", seqs: 1...10) + Self.rows(node: "n2", stream: "a", seqs: 1...10))
            _ = try await store.deleteNode(id: "n1")
            let again = try await store.appendLogs(Self.rows(stream: "a", seqs: 1...5) + Self.rows(node: "n2", stream: "a", seqs: 8...12))
            #expect(again.inserted == 7)
            #expect(again.highWaterMarks == [LogStreamID(nodeID: "n1", streamKey: "a"): 5, LogStreamID(nodeID: "n2", streamKey: "a"): 12])
            #expect(try await store.resumePoints(nodeID: "n1") == ["a": 5])
            // Replays right after the writes that stored them are dropped.
            let replay = try await store.appendLogs(Self.rows(stream: "a", seqs: 1...5) + Self.rows(node: "n2", stream: "a", seqs: 1...12))
            #expect(replay.inserted == 0)
            #expect(replay.duplicates == 17)
        }
    }

    @Test("large calls cross statement and chunk boundaries", arguments: StoreBackend.all)
    func largeBatches(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            // 12,345 rows: many full 200-row SQLite statements plus a remainder, and
            // more than two 5,000-row PostgreSQL chunks.
            let rows = Self.rows(stream: "big", seqs: 1...12_345)
            let result = try await store.appendLogs(rows)
            #expect(result.inserted == 12_345)
            let again = try await store.appendLogs(Array(rows[10_000...]) + Self.rows(stream: "big", seqs: 12_346...12_400))
            #expect(again.inserted == 55)
            #expect(again.duplicates == 2_345)
            #expect(try await store.resumePoints(nodeID: "n1") == ["big": 12_400])
        }
    }

    @Test("concurrent overlapping appends store every row once", arguments: StoreBackend.all)
    func concurrentAppends(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let inserted = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        // Workers overlap pairwise on the same seqs of two streams.
                        let base = Int64(worker / 2) * 500
                        let rows = Self.rows(stream: "x", seqs: (base + 1)...(base + 700)) + Self.rows(stream: "y", seqs: (base + 1)...(base + 300))
                        return try await store.appendLogs(rows).inserted
                    }
                }
                return try await group.reduce(0, +)
            }
            // x: 1…1700 in all; y: 1…300, 501…800, 1001…1300.
            #expect(inserted == 1_700 + 900)
            #expect(try await store.resumePoints(nodeID: "n1") == ["x": 1_700, "y": 1_300])
        }
    }

    @Test("rows and resume points survive closing and reopening", arguments: StoreBackend.all)
    func durableAcrossReopen(_ backend: StoreBackend) async throws {
        let fixture = try StoreFixture(backend)
        do {
            let acknowledged = try await fixture.withOpenStore { store in
                try await store.appendLogs(Self.rows(stream: "a", seqs: 1...500) + Self.rows(node: "n2", stream: "z", seqs: 7...9))
            }
            #expect(acknowledged.inserted == 503)
            try await fixture.withOpenStore { store in
                #expect(try await store.resumePoints(nodeID: "n1") == ["a": 500])
                #expect(try await store.resumePoints(nodeID: "n2") == ["z": 9])
                #expect(try await store.searchLogs(LogQuery(limit: 10_000)).count == 503)
                #expect(try await store.searchLogs(LogQuery(text: "line 250")).map(\.seq) == [250])
                let resent = try await store.appendLogs(Self.rows(stream: "a", seqs: 490...510))
                #expect(resent.inserted == 10)
                #expect(resent.highWaterMarks[LogStreamID(nodeID: "n1", streamKey: "a")] == 510)
            }
            await fixture.destroy()
        } catch {
            await fixture.destroy()
            throw error
        }
    }

    @Test("retention deletes old rows, keeps resume points and the text index in step", arguments: StoreBackend.all)
    func retention(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            _ = try await store.appendLogs(Self.rows(stream: "a", seqs: 1...100))
            // Timestamps are 1_000_000 + seq: rows 1…60 are older than 1_000_061.
            #expect(try await store.pruneLogs(olderThan: 1_000_061) == 60)
            #expect(try await store.pruneLogs(olderThan: 1_000_061) == 0)
            let left = try await store.searchLogs(LogQuery(limit: 1_000))
            #expect(left.count == 40)
            #expect(left.map(\.seq).min() == 61)
            #expect(try await store.searchLogs(LogQuery(text: "line 30")).isEmpty)
            #expect(try await store.searchLogs(LogQuery(text: "line 70")).map(\.seq) == [70])
            #expect(try await store.resumePoints(nodeID: "n1") == ["a": 100])
            // Pruned rows resent are stored again (the agent never does that: it
            // resumes after the mark).
            _ = try await store.appendLogs(Self.rows(stream: "a", seqs: 101...101))
            #expect(try await store.searchLogs(LogQuery(text: "line")).count == 41)
        }
    }

    @Test("log streams: upsert and list", arguments: StoreBackend.all)
    func streams(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let demo = LogStreamRecord(nodeID: "n1", key: "demo-1", source: 1, name: "camera-demo", path: "/tmp/dvic_log_abc12345", metadata: ["pid": "42"], openedAt: 100)
            let journal = LogStreamRecord(nodeID: "n1", key: "journal", source: 2, name: "journald", path: "", metadata: [:], openedAt: 50)
            try await store.upsertLogStream(journal)
            try await store.upsertLogStream(demo)
            var reopened = demo
            reopened.metadata = ["pid": "43", "user": "pi"]
            reopened.openedAt = 200
            try await store.upsertLogStream(reopened)
            #expect(try await store.logStreams(nodeID: "n1") == [reopened, journal])
            #expect(try await store.logStreams(nodeID: "n2") == [])
        }
    }
}
