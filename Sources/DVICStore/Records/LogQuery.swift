/// A search over stored logs. Every filter is optional; all given filters must hold.
/// Results come newest first (by timestamp, then by arrival).
public struct LogQuery: Hashable, Sendable {
    /// The most rows one query returns, whatever `limit` asks for.
    public static let maximumLimit = 10_000

    /// Empty means every node.
    public var nodeIDs: [String]
    /// Empty means every stream.
    public var streamKeys: [String]
    /// Rows with `level >= minLevel`.
    public var minLevel: Int?
    /// Full-text words, all of which must occur in the row's text (case-insensitive,
    /// whole words). Anything that is not a letter or a digit separates words, so
    /// quotes, `*`, `NEAR(`, `OR` or SQL in here are plain text, never query syntax.
    /// A text with no letters or digits at all matches nothing; nil or blank text
    /// does not filter.
    public var text: String?
    /// Inclusive lower bound on the timestamp (ms).
    public var since: Int64?
    /// Exclusive upper bound on the timestamp (ms).
    public var until: Int64?
    /// Clamped to 0…`maximumLimit`.
    public var limit: Int

    public init(
        nodeIDs: [String] = [],
        streamKeys: [String] = [],
        minLevel: Int? = nil,
        text: String? = nil,
        since: Int64? = nil,
        until: Int64? = nil,
        limit: Int = 1000
    ) {
        self.nodeIDs = nodeIDs
        self.streamKeys = streamKeys
        self.minLevel = minLevel
        self.text = text
        self.since = since
        self.until = until
        self.limit = limit
    }

    var effectiveLimit: Int {
        min(max(self.limit, 0), Self.maximumLimit)
    }
}
