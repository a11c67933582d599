public import Hummingbird
internal import Foundation

/// Every error answer of the REST API: a status and the contract's body
/// `{"error": {"code", "message"}}`.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public static func badRequest(_ message: String) -> Self { .init(.badRequest, "invalid_request", message) }
    public static let unauthorized = Self(.unauthorized, "unauthorized", "missing, unknown or expired bearer token")
    public static func forbidden(_ message: String) -> Self { .init(.forbidden, "forbidden", message) }
    public static func notFound(_ what: String) -> Self { .init(.notFound, "not_found", "\(what) not found") }
    public static func conflict(_ message: String) -> Self { .init(.conflict, "conflict", message) }
    public static func tooLarge(_ message: String) -> Self { .init(.contentTooLarge, "body_too_large", message) }
    public static func unavailable(_ message: String) -> Self { .init(.serviceUnavailable, "unavailable", message) }

    public var headers: HTTPFields {
        status == .unauthorized
            ? [.contentType: "application/json", .wwwAuthenticate: "Bearer realm=\"dvic\""]
            : [.contentType: "application/json"]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder().encode(ErrorBody(error: .init(code: code, message: message)))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// `{"error": {"code", "message"}}`.
private struct ErrorBody: Encodable {
    struct Detail: Encodable {
        let code: String
        let message: String
    }
    let error: Detail
}
