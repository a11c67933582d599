/// What a signed-in person may do. Ordered: every role may do what the ones below it may.
public enum Role: String, Sendable, Hashable, Comparable, CaseIterable, Codable {
    /// Reads only: nodes, metrics, logs, command results.
    case viewer
    /// Also runs commands, opens terminals and reads the audit trail.
    case `operator`
    /// Also manages users, enrollments and devices.
    case admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// Whether this role may do what `required` may.
    public func allows(_ required: Role) -> Bool { self >= required }
}
