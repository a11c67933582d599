public import DVICProtocol

/// What the server knows about one node, as the registry keeps it in memory.
public struct NodeInfo: Sendable, Hashable {
    public var id: String
    public var name: String
    public var kind: NodeKind
    public var tags: [String]
    public var agentVersion: String
    public var inventory: [String: String]
    public var state: NodeState
    /// Milliseconds since the epoch; 0 when never seen.
    public var lastSeen: Int64
    public var demos: [DemoProcess]
    public var containers: [ContainerInfo]
    /// How often a device promised to post, in seconds (devices only).
    public var keepaliveSeconds: Int

    public init(
        id: String, name: String, kind: NodeKind, tags: [String] = [], agentVersion: String = "",
        inventory: [String: String] = [:], state: NodeState = .offline, lastSeen: Int64 = 0,
        demos: [DemoProcess] = [], containers: [ContainerInfo] = [], keepaliveSeconds: Int = 10
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.tags = tags
        self.agentVersion = agentVersion
        self.inventory = inventory
        self.state = state
        self.lastSeen = lastSeen
        self.demos = demos
        self.containers = containers
        self.keepaliveSeconds = keepaliveSeconds
    }

    /// The live-stream rendering of this node's status.
    public var statusMessage: NodeStatus {
        NodeStatus(nodeID: id, name: name, kind: kind, state: state, lastSeen: lastSeen, agentVersion: agentVersion, tags: tags)
    }
}
