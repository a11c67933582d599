/// Which nodes a command or a rollout is for: a list, everyone with one of some tags,
/// or all of them.
public enum CommandTargets: Sendable, Hashable {
    case nodes([String])
    case tags([String])
    case all

    public func matches(_ node: NodeInfo) -> Bool {
        switch self {
        case .nodes(let ids): ids.contains(node.id)
        case .tags(let tags): node.tags.contains(where: tags.contains)
        case .all: true
        }
    }
}
