public import DVICServerCore
public import Hummingbird

/// The request context of the REST API: who is asking, once the bearer token has
/// been checked.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.principal = nil
    }

    /// Request bodies above this (256 KiB, Spec/openapi.yaml "Limits") are refused with
    /// 413 before they are read whole.
    public var maxUploadSize: Int { 256 * 1024 }

    /// The caller, who must hold at least `role`; 401 without a token, 403 below it.
    public func require(_ role: Role) throws -> Principal {
        guard let principal else { throw APIError.unauthorized }
        guard principal.role.allows(role) else {
            throw APIError.forbidden("this needs the \(role.rawValue) role; you are \(principal.role.rawValue)")
        }
        return principal
    }
}
