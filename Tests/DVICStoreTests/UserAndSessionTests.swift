import DVICStore
import Testing

@Suite("Users, sessions and settings")
struct UserAndSessionTests {
    static let alice = UserRecord(id: "u1", username: "alice", passwordHash: "$argon2id$v=19$hash-a", role: "admin", createdAt: 1_000)
    static let bob = UserRecord(id: "u2", username: "bob", passwordHash: "$argon2id$v=19$hash-b", role: "viewer", createdAt: 2_000)

    @Test("users: create, look up, list, update, delete", arguments: StoreBackend.all)
    func users(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createUser(Self.bob)
            try await store.createUser(Self.alice)
            #expect(try await store.user(named: "alice") == Self.alice)
            #expect(try await store.user(id: "u2") == Self.bob)
            #expect(try await store.user(named: "carol") == nil)
            #expect(try await store.users() == [Self.alice, Self.bob])

            var clash = Self.bob
            clash.id = "u3"
            await expectStoreError(.conflict) { try await store.createUser(clash) }
            var sameID = Self.alice
            sameID.username = "alice2"
            await expectStoreError(.conflict) { try await store.createUser(sameID) }

            var promoted = Self.bob
            promoted.role = "operator"
            promoted.passwordHash = "$argon2id$v=19$new"
            promoted.createdAt = 99  // not updatable
            try await store.updateUser(promoted)
            let stored = try #require(try await store.user(id: "u2"))
            #expect(stored.role == "operator")
            #expect(stored.passwordHash == "$argon2id$v=19$new")
            #expect(stored.createdAt == 2_000)

            var taken = Self.bob
            taken.username = "alice"
            await expectStoreError(.conflict) { try await store.updateUser(taken) }
            var ghost = Self.bob
            ghost.id = "nobody"
            await expectStoreError(.notFound) { try await store.updateUser(ghost) }

            #expect(try await store.deleteUser(id: "u2"))
            #expect(try await store.deleteUser(id: "u2") == false)
            #expect(try await store.users() == [Self.alice])
        }
    }

    @Test("sessions: save, look up with the user's current role, delete, prune", arguments: StoreBackend.all)
    func sessions(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createUser(Self.alice)
            try await store.createUser(Self.bob)
            let first = SessionRecord(tokenHash: hash("s1"), userID: "u1", username: "alice", role: "admin", createdAt: 10, expiresAt: 100)
            let second = SessionRecord(tokenHash: hash("s2"), userID: "u2", username: "bob", role: "viewer", createdAt: 10, expiresAt: 200)
            try await store.saveSession(first)
            try await store.saveSession(second)
            #expect(try await store.session(tokenHash: hash("s1")) == first)
            #expect(try await store.session(tokenHash: hash("nope")) == nil)

            // A role change applies to live sessions at once.
            var demoted = Self.alice
            demoted.role = "viewer"
            try await store.updateUser(demoted)
            #expect(try await store.session(tokenHash: hash("s1"))?.role == "viewer")

            let orphan = SessionRecord(tokenHash: hash("s3"), userID: "ghost", username: "ghost", role: "admin", createdAt: 1, expiresAt: 2)
            await expectStoreError(.notFound) { try await store.saveSession(orphan) }

            #expect(try await store.pruneSessions(now: 100) == 1)
            #expect(try await store.session(tokenHash: hash("s1")) == nil)
            #expect(try await store.session(tokenHash: hash("s2")) != nil)

            // Deleting a user ends their sessions.
            try await store.saveSession(first)
            #expect(try await store.deleteUser(id: "u1"))
            #expect(try await store.session(tokenHash: hash("s1")) == nil)

            #expect(try await store.deleteSession(tokenHash: hash("s2")))
            #expect(try await store.deleteSession(tokenHash: hash("s2")) == false)
        }
    }

    @Test("settings: absent, set, replaced", arguments: StoreBackend.all)
    func settings(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.setting("retention.days") == nil)
            try await store.setSetting("retention.days", "7")
            try await store.setSetting("retention.days", "30")
            try await store.setSetting("empty", "")
            #expect(try await store.setting("retention.days") == "30")
            #expect(try await store.setting("empty") == "")
        }
    }
}
