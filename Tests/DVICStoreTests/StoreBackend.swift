/// The store implementations every shared test body runs against.
enum StoreBackend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite
    /// SQLite with a side-index pass every 3 log rows, so every log query meets both the
    /// indexed rows and the unindexed tail (SQLiteLogIndex).
    case sqliteEagerIndex = "sqlite-eager-index"
    case postgres

    var description: String { self.rawValue }

    /// SQLite always; PostgreSQL when a URL is given, or when it is required (then a
    /// missing URL fails those cases instead of hiding them).
    static let all: [StoreBackend] = PostgresTestEnvironment.shouldRun ? [.sqlite, .sqliteEagerIndex, .postgres] : [.sqlite, .sqliteEagerIndex]
}
