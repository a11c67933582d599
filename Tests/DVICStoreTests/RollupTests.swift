import DVICStore
import Testing

@Suite("Metric roll-ups")
struct RollupTests {
    static func row(_ name: String, bucket: Int64, resolution: Int = 10, min: Double, max: Double, sum: Double, count: Int64, node: String = "n1") -> RollupRow {
        RollupRow(nodeID: node, name: name, resolution: resolution, bucket: bucket, min: min, max: max, sum: sum, count: count)
    }

    @Test("upserts merge into existing buckets; ranges come oldest first", arguments: StoreBackend.all)
    func merge(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.writeRollups([
                Self.row("cpu", bucket: 20_000, min: 5, max: 9, sum: 14, count: 2),
                Self.row("cpu", bucket: 10_000, min: 1, max: 3, sum: 4, count: 2),
                Self.row("cpu", bucket: 10_000, resolution: 300, min: 1, max: 3, sum: 4, count: 2),
                Self.row("temp_c", bucket: 10_000, min: 40, max: 41, sum: 81, count: 2),
            ])
            // Merged into the stored bucket, and two parts of one bucket in one call.
            try await store.writeRollups([
                Self.row("cpu", bucket: 10_000, min: 0.5, max: 2, sum: 2.5, count: 2),
                Self.row("cpu", bucket: 10_000, min: 2, max: 7, sum: 7, count: 1),
                Self.row("cpu", bucket: 30_000, min: 1, max: 1, sum: 1, count: 1),
            ])
            let cpu = try await store.rollups(nodeID: "n1", name: "cpu", resolution: 10, since: 0, until: 30_000)
            #expect(cpu == [
                Self.row("cpu", bucket: 10_000, min: 0.5, max: 7, sum: 13.5, count: 5),
                Self.row("cpu", bucket: 20_000, min: 5, max: 9, sum: 14, count: 2),
            ])
            #expect(try await store.rollups(nodeID: "n1", name: "cpu", resolution: 10, since: 20_000, until: 40_000).map(\.bucket) == [20_000, 30_000])
            #expect(try await store.rollups(nodeID: "n1", name: "cpu", resolution: 300, since: 0, until: 40_000).count == 1)
            #expect(try await store.rollups(nodeID: "n2", name: "cpu", resolution: 10, since: 0, until: 40_000).isEmpty)

            try await store.writeRollups([Self.row("zeta", bucket: 0, min: 0, max: 0, sum: 0, count: 1), Self.row("Alpha", bucket: 0, min: 0, max: 0, sum: 0, count: 1)])
            #expect(try await store.metricNames(nodeID: "n1") == ["Alpha", "cpu", "temp_c", "zeta"])
            #expect(try await store.metricNames(nodeID: "n2") == [])

            #expect(try await store.pruneRollups(resolution: 10, olderThan: 20_000) == 4)
            #expect(try await store.rollups(nodeID: "n1", name: "cpu", resolution: 10, since: 0, until: 40_000).map(\.bucket) == [20_000, 30_000])
            #expect(try await store.rollups(nodeID: "n1", name: "cpu", resolution: 300, since: 0, until: 40_000).count == 1)
            try await store.writeRollups([])
        }
    }

    @Test("large roll-up batches", arguments: StoreBackend.all)
    func largeBatch(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let rows = (0..<6_000).map { Self.row("m\($0 % 7)", bucket: Int64($0) * 10_000, min: 1, max: 2, sum: 3, count: 2) }
            try await store.writeRollups(rows)
            try await store.writeRollups(rows)
            let stored = try await store.rollups(nodeID: "n1", name: "m0", resolution: 10, since: 0, until: .max)
            #expect(stored.count == 858)
            #expect(stored.allSatisfy { $0.count == 4 && $0.sum == 6 && $0.min == 1 && $0.max == 2 })
        }
    }

    @Test("a deleted node's history is gone, also for a node that comes back under its id", arguments: StoreBackend.all)
    func deletedNode(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.writeRollups([
                Self.row("cpu", bucket: 10_000, min: 1, max: 1, sum: 1, count: 1),
                Self.row("cpu", bucket: 20_000, min: 2, max: 2, sum: 2, count: 1),
                Self.row("cpu", bucket: 10_000, min: 5, max: 5, sum: 5, count: 1, node: "n2"),
            ])
            _ = try await store.deleteNode(id: "n1")
            #expect(try await store.metricNames(nodeID: "n1") == [])
            #expect(try await store.rollups(nodeID: "n1", name: "cpu", resolution: 10, since: 0, until: 40_000) == [])
            try await store.writeRollups([Self.row("cpu", bucket: 20_000, min: 9, max: 9, sum: 9, count: 1)])
            #expect(try await store.rollups(nodeID: "n1", name: "cpu", resolution: 10, since: 0, until: 40_000) == [
                Self.row("cpu", bucket: 20_000, min: 9, max: 9, sum: 9, count: 1)
            ])
            #expect(try await store.rollups(nodeID: "n2", name: "cpu", resolution: 10, since: 0, until: 40_000).map(\.sum) == [5])
        }
    }
}
