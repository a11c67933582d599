@_spi(Testing) @testable import DVICStore
import Synchronization
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The SQLite store's packed roll-ups (SQLiteRollups, RollupPack): the migration from
/// one row per metric, damaged packs, and the name cache, which the generic suites
/// cannot see.
@Suite("SQLite packed roll-ups")
struct RollupPackTests {
    static func row(_ name: String, node: String = "n1", resolution: Int = 10, bucket: Int64, min: Double, max: Double, sum: Double, count: Int64) -> RollupRow {
        RollupRow(nodeID: node, name: name, resolution: resolution, bucket: bucket, min: min, max: max, sum: sum, count: count)
    }

    @Test("a pack round-trips, merges by name, and keeps every bit of its numbers")
    func roundTrip() throws {
        var pack = RollupPack()
        pack.add(.init(nameID: 7, min: 0.1, max: .infinity, sum: -0.0, count: 1))
        pack.add(.init(nameID: Int64.max, min: .leastNonzeroMagnitude, max: 1e308, sum: 0.30000000000000004, count: .max))
        pack.add(.init(nameID: 7, min: -3, max: 2, sum: 0.2, count: 2))
        #expect(pack.entries.count == 2)
        #expect(pack.bytes.count == 1 + 2 * RollupPack.entrySize)
        let read = try RollupPack(bytes: pack.bytes)
        #expect(read == pack)
        #expect(read.entry(nameID: 7) == .init(nameID: 7, min: -3, max: .infinity, sum: 0.2, count: 3))
        #expect(read.entry(nameID: Int64.max)?.sum == 0.30000000000000004)
        #expect(read.entry(nameID: 8) == nil)
    }

    @Test("empty, truncated, oversized or foreign blobs are .corrupt", arguments: [
        [], [2], [1, 0], Array(repeating: 1, count: 1 + RollupPack.entrySize + 1), [0] + Array(repeating: 0, count: RollupPack.entrySize),
    ] as [[UInt8]])
    func damaged(_ bytes: [UInt8]) {
        #expect(throws: StoreError.self) { try RollupPack(bytes: bytes) }
        do throws(StoreError) {
            _ = try RollupPack(bytes: bytes)
        } catch {
            #expect(error.code == .corrupt)
        }
    }

    @Test("a version byte alone is an empty pack")
    func empty() throws {
        #expect(try RollupPack(bytes: [1]).entries.isEmpty)
    }

    @Test("a schema-2 file's roll-ups are packed by the migration and read as before")
    func migratesSchemaTwo() async throws {
        try await LogIndexTests.withStore(batch: 1_000, prepare: { path in try SQLiteFleetStore.makeDatabase(
            path: path, schemaVersion: 2,
            then: """
                INSERT INTO rollups (node_id, name, resolution, bucket, min, max, sum, count) VALUES
                    ('a', 'cpu', 10, 10000, 1, 3, 4, 2), ('a', 'temp', 10, 10000, 40, 41, 81, 2),
                    ('b', 'cpu', 10, 10000, 5, 5, 5, 1), ('a', 'cpu', 10, 20000, 0.5, 0.5, 0.5, 1),
                    ('a', 'cpu', 300, 0, 0.5, 3, 4.5, 3);
                """) }) { store in
            #expect(try await store.rollups(nodeID: "a", name: "cpu", resolution: 10, since: 0, until: 30_000) == [
                Self.row("cpu", node: "a", bucket: 10_000, min: 1, max: 3, sum: 4, count: 2),
                Self.row("cpu", node: "a", bucket: 20_000, min: 0.5, max: 0.5, sum: 0.5, count: 1),
            ])
            #expect(try await store.rollups(nodeID: "a", name: "cpu", resolution: 300, since: 0, until: 30_000).map(\.sum) == [4.5])
            #expect(try await store.rollups(nodeID: "b", name: "cpu", resolution: 10, since: 0, until: 30_000).map(\.sum) == [5])
            #expect(try await store.metricNames(nodeID: "a") == ["cpu", "temp"])
            // Migrated packs merge with new roll-ups of their bucket.
            try await store.writeRollups([Self.row("temp", node: "a", bucket: 10_000, min: 39, max: 39, sum: 39, count: 1)])
            #expect(try await store.rollups(nodeID: "a", name: "temp", resolution: 10, since: 0, until: 30_000) == [
                Self.row("temp", node: "a", bucket: 10_000, min: 39, max: 41, sum: 120, count: 3)
            ])
            // Counted per metric, as before: a/cpu, a/temp and b/cpu at 10,000.
            #expect(try await store.pruneRollups(resolution: 10, olderThan: 20_000) == 3)
        }
    }

    @Test("a damaged pack in the file is reported as .corrupt, and other nodes still read")
    func damagedRow() async throws {
        try await LogIndexTests.withStore(batch: 1_000, prepare: { path in try SQLiteFleetStore.makeDatabase(
            path: path, schemaVersion: 3,
            then: """
                INSERT INTO rollup_names (node_id, name) VALUES ('a', 'cpu');
                INSERT INTO rollup_buckets (resolution, bucket, node_id, data) VALUES (10, 10000, 'a', X'01FFFF');
                """) }) { store in
            await #expect(throws: StoreError.self) {
                _ = try await store.rollups(nodeID: "a", name: "cpu", resolution: 10, since: 0, until: 30_000)
            }
            do throws(StoreError) {
                _ = try await store.rollups(nodeID: "a", name: "cpu", resolution: 10, since: 0, until: 30_000)
            } catch {
                #expect(error.code == .corrupt)
            }
            try await store.writeRollups([Self.row("cpu", node: "b", bucket: 10_000, min: 1, max: 1, sum: 1, count: 1)])
            #expect(try await store.rollups(nodeID: "b", name: "cpu", resolution: 10, since: 0, until: 30_000).count == 1)
            // A write into the damaged bucket fails whole rather than overwrite it, and the
            // name id it gave a new node rolls back without reaching the writer's cache.
            await #expect(throws: StoreError.self) {
                try await store.writeRollups([
                    Self.row("cpu", node: "a", bucket: 10_000, min: 1, max: 1, sum: 1, count: 1),
                    Self.row("new", node: "z", bucket: 10_000, min: 1, max: 1, sum: 1, count: 1),
                ])
            }
            #expect(store.rollupNames.withLock { $0["z"] } == nil)
            #expect(store.rollupNames.withLock { $0["b"]?["cpu"] } != nil)
            #expect(try await store.metricNames(nodeID: "z") == [])
            try await store.writeRollups([Self.row("new", node: "z", bucket: 20_000, min: 2, max: 2, sum: 2, count: 1)])
            #expect(try await store.rollups(nodeID: "z", name: "new", resolution: 10, since: 0, until: 30_000).map(\.sum) == [2])
        }
    }

    @Test("a day of 10 s buckets for a fleet reads one node's metric in buckets, not rows")
    func readsByBucket() async throws {
        try await LogIndexTests.withStore(batch: 1_000) { store in
            // 50 nodes × 3 metrics × 400 buckets; one node misses every other bucket.
            for start in stride(from: 0, to: 400, by: 100) {
                var rows: [RollupRow] = []
                for bucket in start..<(start + 100) {
                    for node in 0..<50 where node != 7 || bucket % 2 == 0 {
                        for metric in ["cpu", "mem", "disk"] {
                            rows.append(Self.row(metric, node: "n\(node)", bucket: Int64(bucket) * 10_000, min: Double(node), max: Double(bucket), sum: 1, count: 1))
                        }
                    }
                }
                try await store.writeRollups(rows)
            }
            let seven = try await store.rollups(nodeID: "n7", name: "mem", resolution: 10, since: 1_000_000, until: 2_000_000)
            #expect(seven.map(\.bucket) == stride(from: 1_000_000, to: 2_000_000, by: 20_000).map(Int64.init))
            #expect(seven.allSatisfy { $0.min == 7 && $0.max == Double($0.bucket / 10_000) })
            #expect(try await store.rollups(nodeID: "n49", name: "disk", resolution: 10, since: 0, until: .max).count == 400)
            #expect(try await store.rollups(nodeID: "n49", name: "gpu", resolution: 10, since: 0, until: .max).isEmpty)
            #expect(try await store.pruneRollups(resolution: 10, olderThan: 100 * 10_000) == 49 * 3 * 100 + 3 * 50)
            #expect(try await store.rollups(nodeID: "n7", name: "mem", resolution: 10, since: 0, until: .max).count == 150)
        }
    }
}
