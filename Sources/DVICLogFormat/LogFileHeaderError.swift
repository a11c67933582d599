/// Why a file's first line is not a usable header.
///
/// A struct with a `Code` rather than an enum, so that a new reason never breaks a caller's `switch`.
public struct LogFileHeaderError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case malformedJSON
            case invalidField
            case unsupportedVersion
            case lineTooLong
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The line is not a JSON object.
        public static let malformedJSON = Code(.malformedJSON)
        /// A required key (`dvic_log`, `pid`, `exe`, `argv`, `user`, `name`, `started`) is missing
        /// or has the wrong type, or `pid` is no process id (1 through 2^31 - 1).
        public static let invalidField = Code(.invalidField)
        /// `dvic_log` names a version this reader does not know.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// The first line is longer than the parser's line limit.
        public static let lineTooLong = Code(.lineTooLong)

        /// The code's name, as the test vectors write it.
        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
