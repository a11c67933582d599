#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns the server's `--database` option into a store.
public enum FleetStoreFactory {
    /// The SQLite file's name inside the data directory.
    public static let sqliteFileName = "dvic.sqlite"

    /// - `nil` or empty: SQLite at `<dataDirectory>/dvic.sqlite` (the directory is
    ///   created if missing).
    /// - `sqlite:PATH` (also `sqlite://PATH`): SQLite at PATH; a relative PATH is taken
    ///   from the working directory.
    /// - `postgres://…` or `postgresql://…`: PostgreSQL (see `PostgresFleetStore`).
    ///
    /// Either way the owner must `run()` the store (see `FleetStore.run()`); SQLite is
    /// usable at once, PostgreSQL once its pool is up and migrations ran.
    public static func open(databaseURL: String?, dataDirectory: String) async throws(StoreError) -> any FleetStore {
        switch try Self.backend(for: databaseURL, dataDirectory: dataDirectory) {
        case .sqlite(let path):
            if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
                let directory = String(path[..<slash])
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw StoreError.unavailable("cannot create the data directory", cause: error)
                }
            }
            return try await SQLiteFleetStore(path: path)
        case .postgres(let url):
            return try PostgresFleetStore(url: url)
        }
    }

    /// The URL with any password hidden: what to log about `--database`.
    public static func redacted(databaseURL: String?) -> String {
        guard let databaseURL, !databaseURL.isEmpty else { return "sqlite (data directory)" }
        let lowered = databaseURL.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            return PostgresConnectionURL.redacted(databaseURL)
        }
        return databaseURL
    }

    enum Backend: Equatable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    static func backend(for databaseURL: String?, dataDirectory: String) throws(StoreError) -> Backend {
        guard let databaseURL, !databaseURL.isEmpty else {
            if dataDirectory.isEmpty {
                return .sqlite(path: Self.sqliteFileName)
            }
            let directory = dataDirectory.hasSuffix("/") && dataDirectory.count > 1 ? String(dataDirectory.dropLast()) : dataDirectory
            return .sqlite(path: directory == "/" ? "/" + Self.sqliteFileName : directory + "/" + Self.sqliteFileName)
        }
        let lowered = databaseURL.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            return .postgres(url: databaseURL)
        }
        if lowered.hasPrefix("sqlite:") {
            var path = String(databaseURL.dropFirst("sqlite:".count))
            if path.hasPrefix("//") {
                path.removeFirst(2)
            }
            guard !path.isEmpty else {
                throw .invalidArgument("sqlite: URL without a path")
            }
            return .sqlite(path: path)
        }
        throw .invalidArgument("unsupported database URL scheme (use sqlite:PATH or postgres://…)")
    }
}
