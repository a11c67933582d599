import Testing

@Suite("PostgreSQL test environment")
struct PostgresEnvironmentTests {
    @Test("PostgreSQL is configured for the shared tests", .disabled(if: !PostgresTestEnvironment.shouldRun, PostgresTestEnvironment.missingMessage))
    func configured() {
        #expect(PostgresTestEnvironment.url != nil, PostgresTestEnvironment.missingMessage)
    }
}
