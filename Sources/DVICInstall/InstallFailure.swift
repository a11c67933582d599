/// Why an SSH install failed. The names are Spec/install.md's failure names, which travel in
/// `installProgress.failure` and the REST API, so they are stable strings, not Swift cases.
public struct InstallFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public init?(name: String) {
            guard Self.all.contains(where: { $0.name == name }) else { return nil }
            self.name = name
        }
        public var description: String { name }

        public static let unreachable = Code("unreachable")
        public static let hostKeyChanged = Code("host_key_changed")
        public static let authFailed = Code("auth_failed")
        public static let noSudo = Code("no_sudo")
        public static let downloadFailed = Code("download_failed")
        public static let installFailed = Code("install_failed")
        public static let notOnline = Code("not_online")
        public static let sourceUnavailable = Code("source_unavailable")
        public static let timedOut = Code("timed_out")

        public static let all: [Code] = [
            .unreachable, .hostKeyChanged, .authFailed, .noSudo, .downloadFailed, .installFailed,
            .notOnline, .sourceUnavailable, .timedOut,
        ]
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }
}
