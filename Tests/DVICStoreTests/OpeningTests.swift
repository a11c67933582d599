@testable import DVICStore
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@Suite("Opening, closing and failures")
struct OpeningTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-store-open-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a file that is not a database is .corrupt")
    func corruptFile() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dvic.sqlite"
        let garbage = (0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(garbage)))
        await expectStoreError(.corrupt) { try await SQLiteFleetStore(path: path) }
    }

    @Test("a damaged database file is .corrupt")
    func damagedDatabase() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dvic.sqlite"
        let store = try await SQLiteFleetStore(path: path)
        await store.close()
        // Keep SQLite's header, scramble every page after the first.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count > 8192)
        for index in 4096..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: index &* 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        await expectStoreError(.corrupt) { try await SQLiteFleetStore(path: path) }
    }

    @Test("an unopenable or unwritable path is .unavailable")
    func unwritablePath() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A directory where the file should be.
        await expectStoreError(.unavailable) { try await SQLiteFleetStore(path: directory) }
        // A regular file where a directory should be (this fails even for root).
        let file = directory + "/plain-file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        await expectStoreError(.unavailable) { try await SQLiteFleetStore(path: file + "/dvic.sqlite") }
        await expectStoreError(.unavailable) {
            try await FleetStoreFactory.open(databaseURL: nil, dataDirectory: file + "/data")
        }
    }

    @Test("a database from newer software is refused")
    func newerSchema() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dvic.sqlite"
        let store = try await SQLiteFleetStore(path: path)
        try await store.database.write { connection throws(StoreError) in
            try connection.execute("INSERT INTO schema_version (version) VALUES (999)")
        }
        await store.close()
        await expectStoreError(.incompatibleSchema) { try await SQLiteFleetStore(path: path) }
    }

    @Test("the factory picks the backend from the URL")
    func factory() async throws {
        #expect(try FleetStoreFactory.backend(for: nil, dataDirectory: "/var/lib/dvic") == .sqlite(path: "/var/lib/dvic/dvic.sqlite"))
        #expect(try FleetStoreFactory.backend(for: "", dataDirectory: "data/") == .sqlite(path: "data/dvic.sqlite"))
        #expect(try FleetStoreFactory.backend(for: "sqlite:/srv/x.db", dataDirectory: "d") == .sqlite(path: "/srv/x.db"))
        #expect(try FleetStoreFactory.backend(for: "sqlite:rel.db", dataDirectory: "d") == .sqlite(path: "rel.db"))
        #expect(try FleetStoreFactory.backend(for: "postgres://u:p@h/db", dataDirectory: "d") == .postgres(url: "postgres://u:p@h/db"))
        #expect(try FleetStoreFactory.backend(for: "postgresql://u@h:1/db", dataDirectory: "d") == .postgres(url: "postgresql://u@h:1/db"))
        await expectStoreError(.invalidArgument) { try FleetStoreFactory.backend(for: "mysql://h/db", dataDirectory: "d") }
        await expectStoreError(.invalidArgument) { try FleetStoreFactory.backend(for: "sqlite:", dataDirectory: "d") }
        #expect(FleetStoreFactory.redacted(databaseURL: "postgres://dvic:s3cret@127.0.0.1:5432/dvic") == "postgres://dvic:***@127.0.0.1:5432/dvic")

        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await FleetStoreFactory.open(databaseURL: nil, dataDirectory: directory + "/nested/data")
        #expect(store is SQLiteFleetStore)
        try await store.setSetting("k", "v")
        await store.close()
        #expect(FileManager.default.fileExists(atPath: directory + "/nested/data/dvic.sqlite"))

        let postgres = try await FleetStoreFactory.open(databaseURL: "postgres://u:p@127.0.0.1:1/db", dataDirectory: directory)
        #expect(postgres is PostgresFleetStore)
        await postgres.close()
    }

    @Test("PostgreSQL URLs are parsed strictly")
    func postgresURLs() throws {
        let url = try PostgresConnectionURL("postgresql://us%40er:p%3Ass@db.example:6543/fleet?sslmode=disable")
        #expect(url.host == "db.example")
        #expect(url.port == 6543)
        #expect(url.username == "us@er")
        #expect(url.password == "p:ss")
        #expect(url.database == "fleet")
        #expect(try PostgresConnectionURL("postgres://u@h").port == 5432)
        #expect(try PostgresConnectionURL("postgres://u@h").database == nil)
        #expect(throws: StoreError.self) { try PostgresConnectionURL("postgres://h/db") }
        #expect(throws: StoreError.self) { try PostgresConnectionURL("postgres://u@h/db?sslmode=require") }
        #expect(throws: StoreError.self) { try PostgresConnectionURL("http://u@h/db") }
        #expect(throws: StoreError.self) { try PostgresFleetStore(url: "postgres://u@h/db", schema: "Bad-Name") }
    }

    @Test("an unreachable PostgreSQL server is .unavailable, not a hang")
    func postgresUnreachable() async throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let store = try PostgresFleetStore(url: "postgres://u:p@127.0.0.1:1/db", startupTimeout: .seconds(2))
        let outcome = await withTaskGroup(of: StoreError?.self) { group in
            group.addTask {
                do {
                    try await store.run()
                    return nil
                } catch {
                    return error as? StoreError
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(60))
                return StoreError(code: .backend, message: "timed out")
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        #expect(outcome?.code == .unavailable, "\(String(describing: outcome))")
        await expectStoreError(.unavailable) { try await store.users() }
        await store.close()
    }

    @Test("calls after close() throw .closed", arguments: StoreBackend.all)
    func closed(_ backend: StoreBackend) async throws {
        let fixture = try StoreFixture(backend)
        let running = try await fixture.open()
        try await running.store.setSetting("a", "b")
        try await running.close()
        await expectStoreError(.closed) { try await running.store.setting("a") }
        await expectStoreError(.closed) { try await running.store.appendLogs([LogRow(nodeID: "n", streamKey: "s", seq: 1, timestamp: 1, level: 1, text: "x")]) }
        await running.store.close()
        await fixture.destroy()
    }

    @Test("SQLite's full-text index stays consistent through ingest, dedupe and retention")
    func ftsIntegrity() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await SQLiteFleetStore(path: directory + "/dvic.sqlite")
        _ = try await FleetStoreLoad.appendSyntheticLogs(to: store, rows: 5_000, rowsPerCall: 1_000)
        _ = try await FleetStoreLoad.appendSyntheticLogs(to: store, rows: 5_000, rowsPerCall: 700)
        #expect(try await store.pruneLogs(olderThan: 1_767_225_600_000 + 2_500) == 2_500)
        try await store.database.write { connection throws(StoreError) in
            // FTS5 compares its index with the content table and fails on a mismatch.
            try connection.execute("INSERT INTO logs_fts(logs_fts, rank) VALUES ('integrity-check', 1)")
        }
        let mode = try await store.database.read { connection throws(StoreError) in
            try connection.firstRow("PRAGMA journal_mode") { $0.string(0) }
        }
        #expect(mode == "wal")
        await store.close()
    }
}
