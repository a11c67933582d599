#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The parts of a `postgres://user:password@host:port/database` URL.
struct PostgresConnectionURL: Sendable {
    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?

    /// Accepts `postgres://` and `postgresql://`; user and password may be
    /// percent-encoded. `sslmode` may be absent, `disable`, `allow` or `prefer`
    /// (all of which connect without TLS here); `require` and the `verify-*` modes are
    /// refused rather than silently weakened, since this build has no TLS for
    /// PostgreSQL.
    init(_ string: String) throws(StoreError) {
        guard let components = URLComponents(string: string),
            let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw .invalidArgument("not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidArgument("the PostgreSQL URL has no host")
        }
        guard let username = components.user, !username.isEmpty else {
            throw .invalidArgument("the PostgreSQL URL has no user name")
        }
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"), ("sslmode", "allow"), ("sslmode", "prefer"):
                continue
            case ("sslmode", _):
                throw .invalidArgument("sslmode=\(item.value ?? "") is not supported: this build connects to PostgreSQL without TLS")
            default:
                throw .invalidArgument("unknown PostgreSQL URL parameter \(item.name)")
            }
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? 5432
        self.username = username
        self.password = components.password
        self.database = path.isEmpty ? nil : path
    }

    /// The URL with the password replaced, for logs.
    static func redacted(_ string: String) -> String {
        guard var components = URLComponents(string: string) else { return "<unparsable URL>" }
        if components.password != nil {
            components.password = "***"
        }
        return components.string ?? "<unparsable URL>"
    }
}
