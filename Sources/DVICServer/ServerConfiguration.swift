/// Everything `dvic-server` can be told (Spec/openapi.yaml and CONTRACT.md name the
/// flags); defaults are the contract's.
public struct ServerConfiguration: Sendable {
    public var host: String = "0.0.0.0"
    /// 0 picks a free port (tests).
    public var port: Int = 8080
    public var dataDirectory: String = "./dvic-data"
    /// nil: the SQLite file in `dataDirectory`; `postgres://…` for PostgreSQL.
    public var databaseURL: String? = nil
    /// The admin password on first start; nil prints a random one once.
    public var adminPassword: String? = nil
    public var tlsCertificate: String? = nil
    public var tlsKey: String? = nil
    /// An agent silent this long is offline.
    public var agentTimeoutSeconds: Int = 30
    /// How often devices are told to post.
    public var keepaliveIntervalSeconds: Int = 10
    /// Samples per node and metric kept in memory at full resolution.
    public var metricWindowSamples: Int = 300
    public var logRetentionDays: Int = 30
    /// How long past a command's timeout the server waits for a node's own answer
    /// before it records the node as timed out.
    public var commandGraceMilliseconds: Int = 5000
    /// bcrypt cost for passwords (tests lower it; every step doubles the time).
    public var bcryptCost: UInt8 = 10
    public var limits = Limits()
    /// Whether the server runs its own local agent (`--no-local-agent` turns it off).
    public var localAgent: Bool = false
    /// Where the local agent looks for demo logs (nil: its default, /tmp).
    public var localAgentLogDirectory: String? = nil
    /// Allowed `Origin` values for browser WebSocket upgrades besides the server's own
    /// address (`*` allows any; for development only).
    public var allowedOrigins: [String] = []
    /// The release public key's text (`--release-key FILE`'s contents; see Spec/updates.md):
    /// uploaded agent builds must be signed by it. nil: no signed builds are accepted.
    public var releaseKeyText: String? = nil
    /// The unsigned agent binary installs get while no signed build is stored (nil: the
    /// `dvic-agent` next to the server's executable).
    public var agentBinaryPath: String? = nil

    /// Per-connection and per-request limits; one client over them is refused or
    /// disconnected, and nobody else notices.
    public struct Limits: Sendable {
        /// Largest keepalive body (the Spec's).
        public var maxKeepaliveBytes: Int = 16 * 1024
        /// Largest WebSocket message (the Spec's).
        public var maxMessageBytes: Int = 4 << 20
        /// Frames a connection may send per second on average, with a burst of twice that.
        public var framesPerSecond: Double = 2000
        /// Bytes queued for one connection before it is disconnected as stuck.
        public var maxPendingOutboundBytes: Int = 8 << 20
        /// Seconds an agent has to answer the challenge.
        public var handshakeTimeoutSeconds: Int = 30

        public init() {}
    }

    public init() {}
}
