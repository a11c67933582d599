import DVICStore

/// A store with its `run()` going, the way the server will run it.
struct RunningStore: Sendable {
    let store: any FleetStore
    private let runTask: Task<Void, any Error>

    init(store: any FleetStore) {
        self.store = store
        self.runTask = Task { try await store.run() }
    }

    func close() async throws {
        await self.store.close()
        try await self.runTask.value
    }
}
