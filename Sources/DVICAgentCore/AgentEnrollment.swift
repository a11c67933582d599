public import DVICProtocol

/// What the agent asks the server when it enrolls (`POST /v1/enroll`, Spec/openapi.yaml).
public struct EnrollmentRequest: Sendable, Hashable {
    /// The server as configured (`http(s)://host:port`).
    public var serverURL: String
    /// The one-time enrollment token (`--enroll-token`).
    public var token: String
    /// The raw 32-byte Ed25519 public key of the node.
    public var publicKey: [UInt8]
    public var name: String?
    public var tags: [String]
    /// The inventory, so the server can show the node before its first connection.
    public var inventory: [KeyValue]

    public init(serverURL: String, token: String, publicKey: [UInt8], name: String?, tags: [String], inventory: [KeyValue]) {
        self.serverURL = serverURL
        self.token = token
        self.publicKey = publicKey
        self.name = name
        self.tags = tags
        self.inventory = inventory
    }
}

/// Enrolls the node and returns the node id the server assigned. The executable provides one that
/// speaks HTTP; the server's in-process local agent provides one that registers directly. A
/// thrown error is retried with backoff.
public typealias AgentEnrollment = @Sendable (EnrollmentRequest) async throws -> String
