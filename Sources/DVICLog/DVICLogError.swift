/// Why `DVICLog.open` could not give a log at all.
///
/// Failing to create or write the file is not among them: the log then writes to stderr.
public struct DVICLogError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidName
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// No demo name was given and the program has no name to use instead: the agent and the
        /// dashboard show demos by name.
        public static let invalidName = Code(.invalidName)

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
