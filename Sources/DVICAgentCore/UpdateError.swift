/// Why an agent build was refused or an update did not go through.
///
/// A struct with a `Code` (as `AgentError`), so a new reason never breaks a caller's `switch`.
public struct UpdateError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidKey
            case noReleaseKey
            case badSignature
            case hashMismatch
            case sizeMismatch
            case noVersionStamp
            case versionMismatch
            case download
            case trialFailed
            case swapFailed
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A release key that is not an Ed25519 public key in a known form.
        public static let invalidKey = Code(.invalidKey)
        /// No release key is configured, so no build can be trusted.
        public static let noReleaseKey = Code(.noReleaseKey)
        /// The signature is missing, malformed or not the release key's over the build's hash.
        public static let badSignature = Code(.badSignature)
        /// The bytes are not the ones the hash names (tampered or truncated in transit).
        public static let hashMismatch = Code(.hashMismatch)
        public static let sizeMismatch = Code(.sizeMismatch)
        /// The file carries no agent version stamp (not a dvic-agent build).
        public static let noVersionStamp = Code(.noVersionStamp)
        /// The stamp names another version than the one claimed.
        public static let versionMismatch = Code(.versionMismatch)
        /// The build could not be fetched.
        public static let download = Code(.download)
        /// The new build did not reach the server as a trial.
        public static let trialFailed = Code(.trialFailed)
        /// The executable could not be replaced.
        public static let swapFailed = Code(.swapFailed)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
