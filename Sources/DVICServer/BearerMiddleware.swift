public import DVICServerCore
public import Hummingbird

/// Reads `Authorization: Bearer TOKEN` and puts the principal in the context. Routes
/// decide what role they need; a request without a valid token simply has none.
public struct BearerMiddleware: RouterMiddleware {
    public typealias Context = APIContext
    let auth: AuthService

    public init(auth: AuthService) {
        self.auth = auth
    }

    public func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            context.principal = await auth.authenticate(token: String(header.dropFirst(7)))
        }
        return try await next(request, context)
    }
}
