/// Names one log stream: a node's stream key.
public struct LogStreamID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var nodeID: String
    public var streamKey: String

    public init(nodeID: String, streamKey: String) {
        self.nodeID = nodeID
        self.streamKey = streamKey
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.nodeID, lhs.streamKey) < (rhs.nodeID, rhs.streamKey)
    }

    public var description: String {
        "\(self.nodeID)/\(self.streamKey)"
    }
}
