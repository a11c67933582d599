/// Why something the agent tried failed.
///
/// A struct with a `Code` rather than an enum (as swift-service-lifecycle's `ServiceGroupError`),
/// so that a new reason never breaks a caller's `switch`.
public struct AgentError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case io
            case invalidConfiguration
            case invalidState
            case spawnFailed
            case identity
            case protocolViolation
            case http
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A system call on a file, directory or descriptor failed; `errno` says which way.
        public static let io = Code(.io)
        /// A configuration file, flag or server setting could not be used.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// Persisted state (spool, offsets, identity) is unreadable.
        public static let invalidState = Code(.invalidState)
        /// A child process (command, shell, journalctl) could not be started.
        public static let spawnFailed = Code(.spawnFailed)
        /// The node's key or id is missing or unusable.
        public static let identity = Code(.identity)
        /// The server sent something the protocol does not allow at this point.
        public static let protocolViolation = Code(.protocolViolation)
        /// The Docker Engine API answered something unusable.
        public static let http = Code(.http)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String
    /// The errno of a failed system call, 0 when there was none.
    public var errno: Int32

    public init(code: Code, message: String, errno: Int32 = 0) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String {
        errno == 0 ? "\(code): \(message)" : "\(code): \(message) (errno \(errno))"
    }

    static func io(_ message: String, errno: Int32) -> AgentError {
        AgentError(code: .io, message: message, errno: errno)
    }

    static func configuration(_ message: String) -> AgentError {
        AgentError(code: .invalidConfiguration, message: message)
    }
}
