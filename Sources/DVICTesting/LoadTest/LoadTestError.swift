/// Why a load test could not run at all (a run that ran and found loss is a report
/// that did not pass, not an error).
public struct LoadTestError: Error, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        fileprivate enum Value { case login, enrollment, server }
        fileprivate let value: Value
        public static let login = Code(value: .login)
        public static let enrollment = Code(value: .enrollment)
        public static let server = Code(value: .server)
    }

    public let code: Code
    public let message: String
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message + (cause.map { ": \($0)" } ?? "") }
}
