/// What one load-test run does (the `dvic-loadtest` options, Benchmarks/README.md).
public struct LoadTestOptions: Sendable, Codable {
    /// http(s)://host:port of the server.
    public var server: String
    public var nodes: Int
    /// Seconds of steady load once every node is connected.
    public var duration: Double
    /// Seconds between metric samples of one node.
    public var metricsInterval: Double = 1
    /// Metrics per sample.
    public var metrics: Int = 20
    /// Log lines per node per second.
    public var logRate: Double = 2
    /// Seconds between log batches of one node (the real agent sends what it read,
    /// a few times a second).
    public var batchInterval: Double = 0.25
    /// Whether nodes deflate what they send, as the real agent does (dictionary 1).
    /// Off spares the load generator zlib's per-frame cost on a shared machine, at
    /// the price of wire figures that are not the real agent's.
    public var compression: Bool = true
    /// Seconds between broadcasts of `true` to every node; 0 for none.
    public var broadcastEvery: Double = 0
    /// Nodes connecting per second; 0 for as fast as the handshakes go.
    public var ramp: Double = 0
    /// Handshakes in flight at once while connecting.
    public var connectConcurrency: Int = 256
    /// Enrollments in flight at once (they happen before the clock starts).
    public var enrollConcurrency: Int = 32
    /// Admin credentials, for enrollment tokens, broadcasts, the stream and the check.
    public var adminUser: String = "admin"
    public var adminPassword: String = ""
    /// The server's pid, for RSS and CPU from /proc; nil discovers a local one.
    public var serverPID: Int32?
    /// Whether one `/v1/stream` subscriber follows every node's logs and commands.
    public var subscriber: Bool = true
    /// Seconds to wait, after the load stops, for every line to be acknowledged.
    public var drainTimeout: Double = 120
    /// Whether a node whose connection drops during the run reconnects and resends
    /// from its resume point, as the real agent does (off: a drop is final, as before).
    public var reconnect: Bool = true
    /// Handshakes a dropped node tries before it gives up (each after a jittered
    /// wait of 0.5–2 s, growing to 2–8 s); it also stops when the run ends.
    public var reconnectAttempts: Int = 10
    /// Faults planted on purpose, so tests can prove the check catches them.
    public var plant: [PlantedFault] = []
    /// Which of `--processes` workers this is (0-based) and how many there are; the
    /// worker runs nodes `index`, `index + count`, … and skips the fleet-wide parts.
    public var workerIndex: Int = 0
    public var workerCount: Int = 1

    /// Everything but the password, which must never land in a report file.
    private enum CodingKeys: String, CodingKey {
        case server, nodes, duration, metricsInterval, metrics, logRate, batchInterval, compression, broadcastEvery, ramp
        case connectConcurrency, enrollConcurrency, adminUser, serverPID, subscriber, drainTimeout, reconnect, reconnectAttempts, plant
        case workerIndex, workerCount
    }

    public init(server: String, nodes: Int, duration: Double) {
        self.server = server
        self.nodes = nodes
        self.duration = duration
    }

    /// A fault planted in one node's behaviour (never used by the real scenarios).
    public enum PlantedFault: Sendable, Codable, Hashable {
        /// The node counts a line as sent but drops it on the way (a loss).
        case dropLine(node: Int)
        /// The node sends one line a second time under a fresh seq (a duplicate).
        case repeatLine(node: Int)
        /// The node resends its first batch verbatim, same seqs, as after a reconnect;
        /// the server must store it once (so no fault may be reported).
        case resendBatch(node: Int)
        /// The node's socket is dropped once, right after its fifth batch went out, so
        /// lines are in flight; it must reconnect and resend them (no fault reported).
        case dropConnection(node: Int)
    }
}
