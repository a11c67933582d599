public import DVICProtocol

/// What the spool hands to a connection: records to send, or records that will never come.
public enum SpoolDelivery: Sendable, Hashable {
    /// Consecutive records of one stream, numbered from `firstSeq`.
    case records(key: String, firstSeq: UInt64, records: [DVICProtocol.LogRecord])
    /// Records `firstSeq ..< firstSeq + count` were dropped by the size cap (`logGap`).
    case gap(key: String, firstSeq: UInt64, count: UInt64)

    public var key: String {
        switch self {
        case .records(let key, _, _), .gap(let key, _, _): key
        }
    }
}
