import DVICStore
import Testing

@Suite("Audit trail and commands")
struct AuditAndCommandTests {
    @Test("audit: ids assigned in order, listed newest first, filtered", arguments: StoreBackend.all)
    func audit(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            var ids: [Int64] = []
            let entries: [(Int64, String, String)] = [
                (100, "alice", "user.login"), (200, "bob", "command.run"), (200, "alice", "terminal.open"), (300, "alice", "enrollment.create"),
            ]
            for (at, actor, action) in entries {
                let id = try await store.appendAudit(
                    AuditRecord(at: at, actor: actor, role: "admin", action: action, target: "n1", detail: ["via": "cli", "count": "\(at)"])
                )
                ids.append(id)
            }
            #expect(ids == ids.sorted())
            #expect(Set(ids).count == 4)

            let all = try await store.audit(since: nil, until: nil, actor: nil, limit: 100)
            #expect(all.map(\.action) == ["enrollment.create", "terminal.open", "command.run", "user.login"])
            #expect(all.map(\.id) == ids.reversed())
            #expect(all.last?.detail == ["via": "cli", "count": "100"])

            #expect(try await store.audit(since: nil, until: nil, actor: "alice", limit: 100).map(\.at) == [300, 200, 100])
            #expect(try await store.audit(since: 200, until: 300, actor: nil, limit: 100).map(\.action) == ["terminal.open", "command.run"])
            #expect(try await store.audit(since: nil, until: nil, actor: nil, limit: 1).map(\.action) == ["enrollment.create"])
            #expect(try await store.audit(since: nil, until: nil, actor: "carol", limit: 10).isEmpty)
        }
    }

    @Test("commands and batched results", arguments: StoreBackend.all)
    func commands(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let first = CommandRecord(id: "c1", actor: "alice", commandLine: "uname -a", targets: ["n1", "n2", "n3"], createdAt: 1_000, timeoutMs: 30_000)
            let second = CommandRecord(id: "c2", actor: "bob", commandLine: "uptime", targets: ["n1"], createdAt: 2_000, timeoutMs: 5_000)
            try await store.saveCommand(first)
            try await store.saveCommand(second)
            await expectStoreError(.conflict) { try await store.saveCommand(first) }

            let binary: [UInt8] = [0, 1, 2, 255, 10, 13]
            let results = [
                CommandResultRecord(commandID: "c1", nodeID: "n2", exitCode: 0, reason: "exited", durationMs: 12, stdout: Array("Linux n2\n".utf8), finishedAt: 1_100),
                CommandResultRecord(commandID: "c1", nodeID: "n1", exitCode: nil, signal: 9, reason: "signalled", durationMs: 30_000, stdout: binary, stderr: Array("killed".utf8), finishedAt: 1_200),
            ]
            try await store.saveCommandResults(results)
            let late = CommandResultRecord(commandID: "c1", nodeID: "n3", exitCode: nil, reason: "offline", durationMs: 0, finishedAt: 1_300)
            try await store.saveCommandResults([late])
            // Saving again replaces.
            var retried = results[0]
            retried.exitCode = 1
            try await store.saveCommandResults([retried])

            let stored = try #require(try await store.command(id: "c1"))
            #expect(stored.command == first)
            #expect(stored.results == [results[1], retried, late])
            #expect(stored.results[2].stdout == [])
            #expect(try await store.command(id: "c2")?.results == [])
            #expect(try await store.command(id: "c9") == nil)

            let orphan = CommandResultRecord(commandID: "c9", nodeID: "n1", exitCode: 0, reason: "exited", durationMs: 1, finishedAt: 1)
            await expectStoreError(.notFound) { try await store.saveCommandResults([late, orphan]) }

            #expect(try await store.commands(limit: 10) == [second, first])
            #expect(try await store.commands(limit: 1) == [second])
        }
    }
}
