public import Hummingbird
public import Logging

/// Gives every error answer the contract's body `{"error": {"code", "message"}}`:
/// Hummingbird's own errors (a body that does not decode, one over the size limit)
/// and anything unexpected, which becomes a 500 whose detail stays in the log.
public struct ErrorMiddleware: RouterMiddleware {
    public typealias Context = APIContext

    public init() {}

    public func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any HTTPResponseError {
            throw Self.translate(error.status, detail: "\(error)")
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, "internal", "the server failed to answer; see its log")
        }
    }

    static func translate(_ status: HTTPResponse.Status, detail: String) -> APIError {
        switch status.code {
        case 400: APIError.badRequest(Self.clean(detail))
        case 401: APIError.unauthorized
        case 404: APIError.notFound("resource")
        case 413: APIError.tooLarge("request body too large")
        case 500...: APIError(status, "internal", "the server failed to answer; see its log")
        default: APIError(status, "http_\(status.code)", Self.clean(detail))
        }
    }

    /// Decoding errors describe the type's shape; keep the first line, short.
    static func clean(_ detail: String) -> String {
        let line = detail.split(separator: "\n").first.map(String.init) ?? detail
        return line.count > 300 ? String(line.prefix(300)) + "…" : line
    }
}
