/// One log record of one stream of one node.
public struct LogRow: Hashable, Sendable {
    public var nodeID: String
    /// The agent's key for the stream (one per demo log file, journald unit, …).
    public var streamKey: String
    /// The agent's sequence number within the stream; (nodeID, streamKey, seq) is the
    /// row's identity, so a resent row is stored once.
    public var seq: Int64
    /// Milliseconds since the Unix epoch, UTC.
    public var timestamp: Int64
    /// 0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 fatal.
    public var level: Int
    public var text: String

    public init(nodeID: String, streamKey: String, seq: Int64, timestamp: Int64, level: Int, text: String) {
        self.nodeID = nodeID
        self.streamKey = streamKey
        self.seq = seq
        self.timestamp = timestamp
        self.level = level
        self.text = text
    }

    /// PostgreSQL text cannot hold NUL, and one such character would fail its whole
    /// batch again at every resend; both stores store U+FFFD in its place, so they
    /// answer alike.
    static func storableText(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        // By scalar, not by Character: a NUL followed by a combining mark is one
        // Character but still a NUL byte.
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(scalar == "\u{0}" ? "\u{FFFD}" : scalar)
        }
        return String(scalars)
    }
}
