@_spi(Testing) import DVICStore
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A fresh, empty database for one test: a temporary directory for SQLite, a schema
/// of its own for PostgreSQL (so tests can run in parallel on one server). `open()`
/// may be called again after closing, to check what survived.
struct StoreFixture: Sendable {
    let backend: StoreBackend
    /// The SQLite file, or the PostgreSQL schema.
    let location: String
    private let directory: String?

    init(_ backend: StoreBackend) throws {
        self.backend = backend
        switch backend {
        case .sqlite, .sqliteEagerIndex:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("dvic-store-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            self.directory = directory
            self.location = directory + "/dvic.sqlite"
        case .postgres:
            _ = try #require(PostgresTestEnvironment.url as String?, PostgresTestEnvironment.missingMessage)
            self.directory = nil
            self.location = "t_" + UUID().uuidString.lowercased().filter { $0 != "-" }.prefix(20)
        }
    }

    /// Opens the store and starts its `run()` task.
    func open() async throws -> RunningStore {
        switch self.backend {
        case .sqlite:
            let store = try await SQLiteFleetStore(path: self.location)
            return RunningStore(store: store)
        case .sqliteEagerIndex:
            let store = try await SQLiteFleetStore(path: self.location, logIndexBatch: 3)
            return RunningStore(store: store)
        case .postgres:
            let url = try #require(PostgresTestEnvironment.url)
            let store = try PostgresFleetStore(url: url, schema: self.location, maximumConnections: 4)
            return RunningStore(store: store)
        }
    }

    /// Runs `body` with an open store and closes it afterwards, whatever happens.
    func withOpenStore<T>(_ body: (any FleetStore) async throws -> T) async throws -> T {
        let running = try await self.open()
        do {
            let value = try await body(running.store)
            try await running.close()
            return value
        } catch {
            try? await running.close()
            throw error
        }
    }

    /// Removes the database.
    func destroy() async {
        switch self.backend {
        case .sqlite, .sqliteEagerIndex:
            if let directory { try? FileManager.default.removeItem(atPath: directory) }
        case .postgres:
            guard let running = try? await self.open() else { return }
            try? await (running.store as? PostgresFleetStore)?.dropSchema()
            try? await running.close()
        }
    }
}

/// A fresh store for one test body, removed afterwards.
func withStore<T>(_ backend: StoreBackend, _ body: (any FleetStore) async throws -> T) async throws -> T {
    let fixture = try StoreFixture(backend)
    do {
        let value = try await fixture.withOpenStore(body)
        await fixture.destroy()
        return value
    } catch {
        await fixture.destroy()
        throw error
    }
}
