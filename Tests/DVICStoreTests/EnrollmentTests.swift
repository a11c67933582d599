import DVICStore
import Testing

@Suite("Enrollments")
struct EnrollmentTests {
    static func enrollment(_ seed: String, expiresAt: Int64 = 10_000) -> EnrollmentRecord {
        EnrollmentRecord(tokenHash: hash(seed), name: "camera-\(seed)", tags: ["lab", "cam"], createdBy: "alice", createdAt: 1_000, expiresAt: expiresAt)
    }

    @Test("create, consume once, and the distinct failures", arguments: StoreBackend.all)
    func singleUse(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createEnrollment(Self.enrollment("e1"))
            try await store.createEnrollment(Self.enrollment("e2", expiresAt: 2_000))
            await expectStoreError(.conflict) { try await store.createEnrollment(Self.enrollment("e1")) }
            #expect(try await store.enrollment(tokenHash: hash("e1")) == Self.enrollment("e1"))

            let used = try await store.consumeEnrollment(tokenHash: hash("e1"), nodeID: "node-1", now: 1_500)
            var expected = Self.enrollment("e1")
            expected.usedAt = 1_500
            expected.nodeID = "node-1"
            #expect(used == expected)
            #expect(try await store.enrollment(tokenHash: hash("e1")) == expected)

            await expectStoreError(.enrollmentAlreadyUsed) {
                try await store.consumeEnrollment(tokenHash: hash("e1"), nodeID: "node-2", now: 1_600)
            }
            await expectStoreError(.enrollmentUnknown) {
                try await store.consumeEnrollment(tokenHash: hash("zz"), nodeID: "node-2", now: 1_600)
            }
            // expiresAt is exclusive: at 2_000 it has expired.
            await expectStoreError(.enrollmentExpired) {
                try await store.consumeEnrollment(tokenHash: hash("e2"), nodeID: "node-3", now: 2_000)
            }
            #expect(try await store.enrollment(tokenHash: hash("e2"))?.usedAt == nil)
        }
    }

    @Test("racing consumers: exactly one wins", arguments: StoreBackend.all)
    func race(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            for round in 0..<5 {
                try await store.createEnrollment(Self.enrollment("race\(round)"))
                let outcomes = await withTaskGroup(of: StoreError.Code?.self) { group in
                    for contender in 0..<8 {
                        group.addTask {
                            do {
                                _ = try await store.consumeEnrollment(tokenHash: hash("race\(round)"), nodeID: "node-\(contender)", now: 1_500)
                                return nil
                            } catch {
                                return (error as? StoreError)?.code ?? .backend
                            }
                        }
                    }
                    var outcomes: [StoreError.Code?] = []
                    for await outcome in group { outcomes.append(outcome) }
                    return outcomes
                }
                #expect(outcomes.filter { $0 == nil }.count == 1)
                #expect(outcomes.filter { $0 == .enrollmentAlreadyUsed }.count == 7)
                let stored = try #require(try await store.enrollment(tokenHash: hash("race\(round)")))
                #expect(stored.usedAt == 1_500)
                #expect(stored.nodeID?.hasPrefix("node-") == true)
            }
        }
    }
}
