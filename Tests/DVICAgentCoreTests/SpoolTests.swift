import DVICProtocol
import Foundation
import Testing

@testable import DVICAgentCore

@Suite("Spool: numbering, replay from resume points, cap and gaps")
struct SpoolTests {
    static let info = LogStreamInfo(key: "demo:spooltest1", source: .demo, name: "spool")

    static func chunk(_ first: UInt64, _ count: Int, text: String = "line", key: String = "demo:spooltest1") -> LogChunk {
        let records = (0..<count).map { DVICProtocol.LogRecord(timestamp: Int64(first) + Int64($0), severity: .info, text: "\(text) \(first + UInt64($0))") }
        var info = Self.info
        info.key = key
        return LogChunk(
            info: info, firstSeq: first, records: records,
            checkpoint: SourceCheckpoint(seq: first + UInt64(count) - 1, position: "1:2:\(first + UInt64(count))"))
    }

    static func drain(_ spool: Spool, maxRecords: Int = 500) -> [SpoolDelivery] {
        var all: [SpoolDelivery] = []
        while true {
            let next = spool.nextDeliveries(maxRecords: maxRecords, window: 64 << 20)
            if next.isEmpty { return all }
            all += next
        }
    }

    static func seqs(_ deliveries: [SpoolDelivery]) -> [UInt64] {
        deliveries.flatMap { delivery -> [UInt64] in
            guard case .records(_, let first, let records) = delivery else { return [] }
            return (0..<records.count).map { first + UInt64($0) }
        }
    }

    @Test func replayFromResumePoints() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(configuration: Spool.Configuration(directory: directory.path, synchronizes: false), logger: testLogger)
        try spool.append(Self.chunk(1, 10))
        spool.beginDelivery(resume: [Self.info.key: 4])
        #expect(Self.seqs(Self.drain(spool)) == Array(5...10))
        // Reconnect: the server stored up to 7 meanwhile.
        spool.beginDelivery(resume: [Self.info.key: 7])
        #expect(Self.seqs(Self.drain(spool)) == [8, 9, 10])
        #expect(spool.acknowledged(for: Self.info.key) == 7)
        // Records numbered at or below what is spooled are skipped (a source re-reading).
        #expect(try spool.append(Self.chunk(9, 4)) == 2)
        #expect(Self.seqs(Self.drain(spool)) == [11, 12])
    }

    @Test func batchesAreBounded() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(configuration: Spool.Configuration(directory: directory.path, synchronizes: false), logger: testLogger)
        try spool.append(Self.chunk(1, 1200))
        spool.beginDelivery(resume: [:])
        let batches = Self.drain(spool)
        #expect(batches.compactMap { if case .records(_, _, let records) = $0 { records.count } else { nil } } == [500, 500, 200])
        // The window holds back what is not acknowledged.
        spool.beginDelivery(resume: [:])
        let first = spool.nextDeliveries(maxRecords: 100, window: 1000)
        #expect(!first.isEmpty)
        #expect(spool.nextDeliveries(maxRecords: 100, window: 1000).isEmpty)
        spool.acknowledge(key: Self.info.key, seq: 1200)
        #expect(spool.inFlightBytes == 0)
    }

    @Test func survivesRestartAndTornTail() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let spool = try Spool(configuration: Spool.Configuration(directory: directory.path, synchronizes: false), logger: testLogger)
            try spool.append(Self.chunk(1, 3))
            try spool.append(Self.chunk(4, 3))
            spool.acknowledge(key: Self.info.key, seq: 2)
        }
        // A crash in the middle of a write leaves garbage after the last entry.
        let segment = try FileManager.default.contentsOfDirectory(atPath: directory.path).first { $0.hasSuffix(".seg") }!
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file(segment)))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0xA5, 0xFF, 0x00, 0x00, 0x00, 1, 2]))
        try handle.close()
        let spool = try Spool(configuration: Spool.Configuration(directory: directory.path, synchronizes: false), logger: testLogger)
        #expect(spool.resume(for: Self.info.key) == SourceResume(checkpoint: SourceCheckpoint(seq: 6, position: "1:2:7"), lastSeq: 6))
        #expect(spool.info(for: Self.info.key)?.name == "spool")
        spool.beginDelivery(resume: [:])
        #expect(Self.seqs(Self.drain(spool)) == [1, 2, 3, 4, 5, 6])
        try spool.append(Self.chunk(7, 1))
        #expect(Self.seqs(Self.drain(spool)) == [7])
    }

    @Test func capDropsOldestAndReportsGaps() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(
            configuration: Spool.Configuration(directory: directory.path, maxBytes: 4096, segmentBytes: 1024, synchronizes: false),
            logger: testLogger)
        var next: UInt64 = 1
        for _ in 0..<60 {
            try spool.append(Self.chunk(next, 2, text: String(repeating: "z", count: 40)))
            next += 2
        }
        #expect(spool.totalBytes <= 4096)
        #expect(spool.droppedRecordCount > 0)
        let dropped = spool.droppedRecordCount
        spool.beginDelivery(resume: [:])
        let deliveries = Self.drain(spool)
        guard case .gap(let key, let first, let count) = deliveries.first else {
            Issue.record("no gap first: \(deliveries.first.map { "\($0)" } ?? "nothing")")
            return
        }
        #expect(key == Self.info.key && first == 1 && count == dropped)
        #expect(Self.seqs(deliveries) == Array((dropped + 1)...(next - 1)))

        // While connected, a drop of records not yet sent is a gap right away.
        spool.beginDelivery(resume: [Self.info.key: next - 1])
        #expect(Self.drain(spool).isEmpty)
        for _ in 0..<60 {
            try spool.append(Self.chunk(next, 2, text: String(repeating: "y", count: 40)))
            next += 2
        }
        let live = Self.drain(spool)
        #expect(live.contains { if case .gap = $0 { true } else { false } })
        let covered = live.reduce(into: Set<UInt64>()) { set, delivery in
            switch delivery {
            case .gap(_, let first, let count): for seq in first..<(first + count) { set.insert(seq) }
            case .records(_, let first, let records): for offset in 0..<records.count { set.insert(first + UInt64(offset)) }
            }
        }
        #expect(covered == Set((next - 120)..<next))
    }

    @Test func goneStreamsCloseWhenAcknowledged() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(configuration: Spool.Configuration(directory: directory.path, synchronizes: false), logger: testLogger)
        try spool.append(Self.chunk(1, 3))
        spool.markGone([Self.info.key])
        #expect(spool.closableStreams().isEmpty)
        spool.acknowledge(key: Self.info.key, seq: 3)
        #expect(spool.closableStreams() == [Self.info.key])
        spool.retire(Self.info.key)
        #expect(spool.closableStreams().isEmpty)
        // A file of the same name later numbers on.
        #expect(spool.resume(for: Self.info.key).lastSeq == 3)
        let reopened = try Spool(configuration: Spool.Configuration(directory: directory.path, synchronizes: false), logger: testLogger)
        #expect(reopened.resume(for: Self.info.key).lastSeq == 3)
        #expect(reopened.streamKeys.isEmpty)
    }

    @Test func codecRoundTrip() {
        let records = [DVICProtocol.LogRecord(timestamp: -5, severity: .fatal, text: "ünïcode\n"), DVICProtocol.LogRecord(timestamp: 1 << 40, severity: .trace, text: "")]
        let bytes = SpoolCodec.encodeRecords(key: "k", firstSeq: 7, records: records[...], checkpoint: SourceCheckpoint(seq: 8, position: "p"))
        let (payloads, valid) = SpoolCodec.payloads(in: bytes)
        #expect(valid == bytes.count)
        let entry = SpoolCodec.decodeRecords(payloads[0])
        #expect(entry?.records == records && entry?.firstSeq == 7 && entry?.checkpoint?.position == "p")
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
}
