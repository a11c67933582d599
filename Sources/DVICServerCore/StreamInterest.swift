public import DVICProtocol

/// Which events anyone subscribes to, per kind: every node, or a set of nodes. The ingest
/// path asks it before building a stream event, so that ten thousand metric samples a second
/// cost no hop to the hub and no allocation when no dashboard shows them. A subscription
/// that filters by tag counts as every node (the tags of a node are not known here).
public struct StreamInterest: Sendable, Hashable {
    private var everyNode: UInt64 = 0
    private var nodes: [String: UInt64] = [:]

    public init() {}

    public init(_ subscriptions: some Sequence<Subscribe>) {
        for subscription in subscriptions {
            if subscription.nodes.isEmpty || !subscription.tags.isEmpty {
                everyNode |= subscription.kinds
            } else {
                for node in subscription.nodes { nodes[node, default: 0] |= subscription.kinds }
            }
        }
    }

    /// Whether an event of `kind` about `nodeID` can reach anyone.
    public func wants(_ kind: StreamEvent.Kind, nodeID: String) -> Bool {
        everyNode & kind.rawValue != 0 || (nodes[nodeID] ?? 0) & kind.rawValue != 0
    }
}
