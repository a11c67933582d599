/// The fields of a node that `updateNode` may change; nil leaves a field as it is.
///
/// Keys, kind and token hash are deliberately absent: they change only by deleting
/// and re-enrolling the node.
public struct NodeUpdate: Hashable, Sendable {
    public var name: String?
    public var tags: [String]?
    public var inventory: [String: String]?
    public var agentVersion: String?

    public init(name: String? = nil, tags: [String]? = nil, inventory: [String: String]? = nil, agentVersion: String? = nil) {
        self.name = name
        self.tags = tags
        self.inventory = inventory
        self.agentVersion = agentVersion
    }
}
