@testable import DVICStore
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The SQLite writer's two lanes (WriteLanes): prompt writes overtake waiting bulk ones.
@Suite("SQLite write lanes")
struct WriteLanesTests {
    @Test("prompt jobs go first, each lane in order")
    func order() {
        var lanes = WriteLanes<String>()
        lanes.push("bulk 1", lane: .bulk)
        lanes.push("prompt 1", lane: .prompt)
        lanes.push("bulk 2", lane: .bulk)
        lanes.push("prompt 2", lane: .prompt)
        #expect(lanes.count == 4)
        var popped: [String] = []
        while let job = lanes.pop() { popped.append(job) }
        #expect(popped == ["prompt 1", "prompt 2", "bulk 1", "bulk 2"])
        #expect(lanes.pop() == nil)
    }

    @Test("a prompt write queued behind a bulk one runs first, and both commit")
    func promptOvertakes() async throws {
        let (directory, path) = try LogIndexTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await SQLiteFleetStore(path: path)
        let database = store.database
        try await database.write { connection throws(StoreError) in
            try connection.execute("CREATE TABLE lane_order (n INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL)")
        }
        // The first write holds the writer until two more wait behind it.
        let started = Flag()
        let holding = Task {
            try await database.write(lane: .bulk) { connection throws(StoreError) in
                started.value.withLock { $0 = true }
                let deadline = Date().addingTimeInterval(10)
                while database.waitingWrites < 2, Date() < deadline { usleep(1_000) }
                try connection.run("INSERT INTO lane_order (what) VALUES ('holding')")
            }
        }
        while !started.value.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        let bulk = Task {
            try await database.write(lane: .bulk) { connection throws(StoreError) in try connection.run("INSERT INTO lane_order (what) VALUES ('bulk')") }
        }
        while database.waitingWrites < 1 { try await Task.sleep(for: .milliseconds(1)) }
        let prompt = Task {
            try await database.write { connection throws(StoreError) in try connection.run("INSERT INTO lane_order (what) VALUES ('prompt')") }
        }
        _ = try await (holding.value, bulk.value, prompt.value)
        let order = try await database.read { connection throws(StoreError) in
            try connection.rows("SELECT what FROM lane_order ORDER BY n") { $0.string(0) }
        }
        #expect(order == ["holding", "prompt", "bulk"])
        await store.close()
    }

    @Test("writes after close fail as .closed and run nothing")
    func afterClose() async throws {
        let (directory, path) = try LogIndexTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await SQLiteFleetStore(path: path)
        await store.close()
        await #expect(throws: StoreError.self) {
            try await store.database.write(lane: .bulk) { _ throws(StoreError) in }
        }
    }
}

final class Flag: Sendable {
    let value = Mutex(false)
}
