/// Every failure `dvic` reports: one line for stderr and the exit code of its kind
/// (`CLIExitCode`). New kinds are new static members, so callers never break.
public struct CLIError: Error, Hashable, Sendable, CustomStringConvertible {
    public let exitCode: CLIExitCode
    public let message: String

    private init(_ exitCode: CLIExitCode, _ message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    public static func usage(_ message: String) -> Self { .init(.usage, message) }
    public static func notFound(_ message: String) -> Self { .init(.notFound, message) }
    public static func unreachable(_ message: String) -> Self { .init(.unreachable, message) }
    public static func server(_ message: String) -> Self { .init(.serverError, message) }
    public static func auth(_ message: String) -> Self { .init(.auth, message) }
    public static func commandFailed(_ message: String) -> Self { .init(.commandFailed, message) }
    public static func notAvailable(_ message: String) -> Self { .init(.notAvailable, message) }

    /// The error of an HTTP answer that is not a success, from its status and the
    /// contract's `{"error": {"code", "message"}}` body.
    public static func http(status: Int, code: String?, message: String?, what: String) -> Self {
        let detail = message.flatMap { $0.isEmpty ? nil : $0 } ?? code ?? "HTTP \(status)"
        switch status {
        case 400, 413, 422: return .usage(detail)
        case 401: return .auth("not authorized (\(detail)); run `dvic login` or pass a valid --token")
        case 403: return .auth("forbidden: \(detail)")
        case 404: return .notFound(detail)
        case 429: return .server("the server is rate limiting \(what): \(detail)")
        case 502, 503, 504: return .unreachable("the server is unavailable (\(status)): \(detail)")
        default: return .server("\(what) failed: \(detail) (HTTP \(status))")
        }
    }

    /// The one line printed on stderr.
    public var description: String { "dvic: \(message)" }
}
