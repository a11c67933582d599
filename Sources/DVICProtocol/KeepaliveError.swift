/// Why a microcontroller keepalive body was refused (Spec/protocol.md, section 11).
public struct KeepaliveError: Error, Hashable, CustomStringConvertible {
    private enum Code: String, Hashable {
        case bodyTooLarge = "body_too_large"
        case malformedJSON = "malformed_json"
        case invalidField = "invalid_field"
    }

    private let code: Code
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The Spec's identifier, e.g. `malformed_json`.
    public var name: String { code.rawValue }

    /// The HTTP status the contract gives this error: 413 for size, 400 otherwise.
    public var httpStatus: Int { code == .bodyTooLarge ? 413 : 400 }

    public static func bodyTooLarge(_ size: Int, limit: Int) -> Self {
        .init(.bodyTooLarge, "body of \(size) bytes exceeds the limit of \(limit)")
    }
    public static func malformedJSON(_ detail: String) -> Self { .init(.malformedJSON, "body is not a JSON object: \(detail)") }
    public static func invalidField(_ detail: String) -> Self { .init(.invalidField, detail) }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "\(name): \(message)" }
}
