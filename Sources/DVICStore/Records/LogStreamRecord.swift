/// Describes a log stream of a node (what the agent said when it opened it).
public struct LogStreamRecord: Hashable, Sendable {
    public var nodeID: String
    public var key: String
    /// The agent's source kind, as a number of the wire protocol.
    public var source: Int
    public var name: String
    public var path: String
    public var metadata: [String: String]
    public var openedAt: Int64

    public init(nodeID: String, key: String, source: Int, name: String, path: String, metadata: [String: String] = [:], openedAt: Int64) {
        self.nodeID = nodeID
        self.key = key
        self.source = source
        self.name = name
        self.path = path
        self.metadata = metadata
        self.openedAt = openedAt
    }
}
