extension APIModel {
    /// One stream of `GET /v1/admin/log-counts`.
    public struct LogStreamCount: Codable, Sendable, Hashable {
        public var node: String
        public var stream: String
        public var rows: Int64
        public var distinctSeqs: Int64
        public var minSeq: Int64
        public var maxSeq: Int64
    }

    public struct LogCountsResponse: Codable, Sendable {
        public var streams: [LogStreamCount]
    }
}
