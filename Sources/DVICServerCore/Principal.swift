/// Who is asking: a signed-in person with a role.
public struct Principal: Sendable, Hashable {
    public var username: String
    public var role: Role

    public init(username: String, role: Role) {
        self.username = username
        self.role = role
    }
}
