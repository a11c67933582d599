public import DVICProtocol

/// Something the live stream may tell subscribers, with what filters look at.
public struct StreamEvent: Sendable {
    public enum Kind: UInt64, Sendable {
        case status = 1
        case metrics = 2
        case logs = 4
        case commands = 8
        case processes = 16
        case jobs = 32
    }

    public var kind: Kind
    /// Empty for events that belong to no node (jobs).
    public var nodeID: String
    public var nodeTags: [String]
    public var message: Message

    public init(kind: Kind, nodeID: String, nodeTags: [String], message: Message) {
        self.kind = kind
        self.nodeID = nodeID
        self.nodeTags = nodeTags
        self.message = message
    }
}
