#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing

/// Where the PostgreSQL tests find their server: `tools/postgres start` prints the URL
/// for `DVIC_TEST_POSTGRES_URL`.
enum PostgresTestEnvironment {
    static var url: String? {
        guard let url = ProcessInfo.processInfo.environment["DVIC_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// In CI (env `CI` set) or with `DVIC_REQUIRE_POSTGRES=1`, PostgreSQL must be tested.
    static var required: Bool {
        let environment = ProcessInfo.processInfo.environment
        if let ci = environment["CI"], !ci.isEmpty, ci != "0", ci.lowercased() != "false" { return true }
        return environment["DVIC_REQUIRE_POSTGRES"] == "1"
    }

    static var shouldRun: Bool { url != nil || required }

    static let missingMessage: Comment =
        "DVIC_TEST_POSTGRES_URL is unset: the PostgreSQL variants are skipped. Run `export DVIC_TEST_POSTGRES_URL=$(tools/postgres start)`; with CI or DVIC_REQUIRE_POSTGRES=1 set, a missing URL fails instead."
}
