/// The exit codes of `dvic`, one per kind of failure, so scripts can tell them apart.
/// The numbers follow BSD `sysexits.h` where one fits. `dvic --help` prints this table.
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | a remote command failed: `exec` when any node exited non-zero, timed out, was cancelled or lost; `shell` when the session ended without an exit code; `update` when the rollout failed. (`shell` otherwise exits with the remote shell's own code.) |
/// | 64 | usage: bad flags or arguments, an ambiguous node name, no server configured, a request the server calls invalid (400) |
/// | 66 | not found: unknown node, command, session, or no node matches the targets |
/// | 69 | server unreachable: connection refused, unknown host, timed out, or the connection dropped |
/// | 70 | server error: a 5xx answer, or an answer `dvic` cannot read |
/// | 77 | auth: no token, an unknown or expired token (401), a role that is not allowed (403), a refused login |
/// | 79 | not available yet in this version (`dvic node add`) |
public enum CLIExitCode: Int32, CaseIterable, Sendable {
    case success = 0
    case commandFailed = 1
    case usage = 64
    case notFound = 66
    case unreachable = 69
    case serverError = 70
    case auth = 77
    case notAvailable = 79

    /// A short name for help text.
    public var name: String {
        switch self {
        case .success: "success"
        case .commandFailed: "command failed"
        case .usage: "usage"
        case .notFound: "not found"
        case .unreachable: "server unreachable"
        case .serverError: "server error"
        case .auth: "auth"
        case .notAvailable: "not available yet"
        }
    }

    /// One line for `dvic --help` (kept short: the help text is wrapped at 80 columns).
    public var summary: String {
        switch self {
        case .success: "success"
        case .commandFailed: "command failed: exec saw a node fail, or an update failed"
        case .usage: "usage: bad flags, ambiguous node, no server, invalid request"
        case .notFound: "not found: unknown node, command or session"
        case .unreachable: "server unreachable, or the connection dropped"
        case .serverError: "server error (5xx) or an unreadable answer"
        case .auth: "auth: no token, bad or expired token, role not allowed"
        case .notAvailable: "not available yet in this version (node add)"
        }
    }

    /// The table for `dvic --help`.
    public static var helpTable: String {
        var lines = ["Exit codes:"]
        for code in allCases {
            let number = String(code.rawValue)
            lines.append("  " + number + String(repeating: " ", count: max(1, 5 - number.count)) + code.summary)
        }
        lines.append("  dvic shell exits with the remote shell's own code once it is open.")
        return lines.joined(separator: "\n")
    }
}
