/// The store implementations every shared test body runs against.
enum StoreBackend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite
    case postgres

    var description: String { self.rawValue }

    /// SQLite always; PostgreSQL when a URL is given, or when it is required (then a
    /// missing URL fails those cases instead of hiding them).
    static let all: [StoreBackend] = PostgresTestEnvironment.shouldRun ? [.sqlite, .postgres] : [.sqlite]
}
