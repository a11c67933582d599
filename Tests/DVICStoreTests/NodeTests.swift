import DVICStore
import Testing

@Suite("Nodes")
struct NodeTests {
    static let agent = NodeRecord(
        id: "n-agent",
        name: "jetson-1",
        kind: "agent",
        tags: ["lab", "gpu"],
        publicKey: Array(repeating: 7, count: 32),
        deviceTokenHash: nil,
        agentVersion: "1.0.0",
        inventory: ["os": "Ubuntu 22.04", "cpu": "arm64"],
        createdAt: 1_000,
        lastSeen: 1_000
    )
    static let device = NodeRecord(
        id: "n-device",
        name: "esp32-door",
        kind: "device",
        tags: [],
        publicKey: [],
        deviceTokenHash: hash("dev1"),
        agentVersion: "",
        inventory: [:],
        createdAt: 2_000,
        lastSeen: 2_000
    )

    @Test("insert, look up, update, last seen, delete", arguments: StoreBackend.all)
    func lifecycle(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.insertNode(Self.device)
            try await store.insertNode(Self.agent)
            #expect(try await store.node(id: "n-agent") == Self.agent)
            #expect(try await store.node(id: "n-device") == Self.device)
            #expect(try await store.node(id: "n-device")?.publicKey == [])
            #expect(try await store.node(deviceTokenHash: hash("dev1")) == Self.device)
            #expect(try await store.node(deviceTokenHash: hash("dev2")) == nil)
            #expect(try await store.nodes() == [Self.agent, Self.device])

            await expectStoreError(.conflict) { try await store.insertNode(Self.agent) }
            var sameToken = Self.device
            sameToken.id = "n-other"
            await expectStoreError(.conflict) { try await store.insertNode(sameToken) }

            let renamed = try await store.updateNode(id: "n-agent", NodeUpdate(name: "jetson-one", agentVersion: "1.1.0"))
            var expected = Self.agent
            expected.name = "jetson-one"
            expected.agentVersion = "1.1.0"
            #expect(renamed == expected)
            let retagged = try await store.updateNode(id: "n-agent", NodeUpdate(tags: [], inventory: ["os": "Debian 12"]))
            expected.tags = []
            expected.inventory = ["os": "Debian 12"]
            #expect(retagged == expected)
            #expect(try await store.node(id: "n-agent") == expected)
            await expectStoreError(.notFound) { try await store.updateNode(id: "ghost", NodeUpdate(name: "x")) }

            try await store.setLastSeen(["n-agent": 5_000, "n-device": 1_500, "ghost": 9_000])
            #expect(try await store.node(id: "n-agent")?.lastSeen == 5_000)
            // Never moves back.
            #expect(try await store.node(id: "n-device")?.lastSeen == 2_000)

            #expect(try await store.deleteNode(id: "n-device"))
            #expect(try await store.deleteNode(id: "n-device") == false)
            #expect(try await store.nodes().map(\.id) == ["n-agent"])
        }
    }

    @Test("deleting a node removes its logs, streams, resume points and roll-ups", arguments: StoreBackend.all)
    func deleteCascades(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.insertNode(Self.agent)
            _ = try await store.appendLogs([
                LogRow(nodeID: "n-agent", streamKey: "s", seq: 1, timestamp: 10, level: 2, text: "hello"),
                LogRow(nodeID: "n-keep", streamKey: "s", seq: 1, timestamp: 10, level: 2, text: "hello"),
            ])
            try await store.upsertLogStream(LogStreamRecord(nodeID: "n-agent", key: "s", source: 1, name: "demo", path: "/tmp/x", openedAt: 5))
            try await store.writeRollups([
                RollupRow(nodeID: "n-agent", name: "cpu", resolution: 10, bucket: 0, min: 1, max: 1, sum: 1, count: 1)
            ])
            #expect(try await store.deleteNode(id: "n-agent"))
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["n-agent"])).isEmpty)
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["n-keep"])).count == 1)
            #expect(try await store.logStreams(nodeID: "n-agent").isEmpty)
            #expect(try await store.resumePoints(nodeID: "n-agent").isEmpty)
            #expect(try await store.metricNames(nodeID: "n-agent").isEmpty)
        }
    }
}
