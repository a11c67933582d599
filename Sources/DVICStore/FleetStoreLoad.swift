/// Synthetic load for the store, for the load test and hand measurements (no timed
/// assertions live in the test suite: this shared machine makes wall time noisy).
public enum FleetStoreLoad {
    /// What one run did and how long the store took.
    public struct Figures: Sendable, CustomStringConvertible {
        public var rows: Int
        public var inserted: Int
        public var calls: Int
        /// Time spent inside `appendLogs` only (row generation excluded).
        public var elapsed: Duration

        public var rowsPerSecond: Double {
            let seconds = Double(self.elapsed.components.seconds) + Double(self.elapsed.components.attoseconds) / 1e18
            return seconds > 0 ? Double(self.rows) / seconds : 0
        }

        public var description: String {
            "\(self.rows) rows (\(self.inserted) new) in \(self.calls) calls, \(self.elapsed): \(Int(self.rowsPerSecond)) rows/s"
        }
    }

    /// Appends `rows` synthetic log rows in `appendLogs` calls of `rowsPerCall` rows
    /// (one transaction each), spread round-robin over `nodes` × `streamsPerNode`
    /// streams with increasing seqs from `firstSeq`, timestamps from
    /// `startTimestamp` one ms apart, and ~100-byte texts of mixed words.
    public static func appendSyntheticLogs(
        to store: any FleetStore,
        rows: Int,
        rowsPerCall: Int = 10_000,
        nodes: Int = 10,
        streamsPerNode: Int = 2,
        firstSeq: Int64 = 1,
        startTimestamp: Int64 = 1_767_225_600_000
    ) async throws(StoreError) -> Figures {
        let clock = ContinuousClock()
        let streams = max(1, nodes) * max(1, streamsPerNode)
        var figures = Figures(rows: 0, inserted: 0, calls: 0, elapsed: .zero)
        var produced = 0
        while produced < rows {
            let count = min(max(1, rowsPerCall), rows - produced)
            var batch: [LogRow] = []
            batch.reserveCapacity(count)
            for offset in 0..<count {
                let n = produced + offset
                let stream = n % streams
                batch.append(
                    LogRow(
                        nodeID: "load-node-\(stream / max(1, streamsPerNode))",
                        streamKey: "stream-\(stream % max(1, streamsPerNode))",
                        seq: firstSeq + Int64(n / streams),
                        timestamp: startTimestamp + Int64(n),
                        level: n % 6,
                        text: Self.text(n)
                    )
                )
            }
            let start = clock.now
            let result = try await store.appendLogs(batch)
            figures.elapsed += clock.now - start
            figures.rows += count
            figures.inserted += result.inserted
            figures.calls += 1
            produced += count
        }
        return figures
    }

    private static let verbs = ["GET", "POST", "PUT", "DELETE", "connect", "retry", "frame", "sensor", "camera", "upload"]
    private static let nouns = ["inference", "pipeline", "buffer", "socket", "model", "detector", "stream", "gpio", "battery", "display"]

    /// A log-like line with some repetition and some unique tokens, as real ones have.
    static func text(_ n: Int) -> String {
        let verb = Self.verbs[n % Self.verbs.count]
        let noun = Self.nouns[(n / 7) % Self.nouns.count]
        return "\(verb) /api/v1/\(noun)/\(n % 9973) status=\(200 + n % 5) took=\(n % 997)ms fps=\(n % 60) request=\(n &* 2_654_435_761 % 1_000_000_007) ok"
    }
}
