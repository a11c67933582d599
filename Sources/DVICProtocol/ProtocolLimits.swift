/// The bounds every decoder enforces before it allocates or trusts a length.
///
/// The defaults are the Spec's (`Spec/protocol.md`, "Limits"); a peer may choose
/// tighter ones but never looser.
public struct ProtocolLimits: Sendable, Hashable {
    /// The most bytes after the 4-byte length field (flags, type and payload).
    public var maxFrameLength: Int
    /// The most bytes a payload may have once inflated.
    public var maxPayloadLength: Int
    /// The most entries in one log batch, metric sample, or any other list.
    public var maxListCount: Int
    /// The highest metric id a connection may describe.
    public var maxMetricID: Int
    /// The most bytes in one WebSocket message (one or more whole frames).
    public var maxMessageLength: Int

    public init(
        maxFrameLength: Int = 1 << 20,
        maxPayloadLength: Int = 4 << 20,
        maxListCount: Int = 10_000,
        maxMetricID: Int = 4095,
        maxMessageLength: Int = 4 << 20
    ) {
        self.maxFrameLength = maxFrameLength
        self.maxPayloadLength = maxPayloadLength
        self.maxListCount = maxListCount
        self.maxMetricID = maxMetricID
        self.maxMessageLength = maxMessageLength
    }

    public static let `default` = ProtocolLimits()
}
