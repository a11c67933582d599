/// A machine of the fleet: an agent (with its Ed25519 key) or a microcontroller
/// device (with its own bearer token).
public struct NodeRecord: Hashable, Sendable {
    public var id: String
    public var name: String
    /// `agent` or `device`; stored as given.
    public var kind: String
    public var tags: [String]
    /// The agent's Ed25519 public key; empty for devices.
    public var publicKey: [UInt8]
    /// SHA-256 of a device's bearer token (unique); nil for agents.
    public var deviceTokenHash: [UInt8]?
    public var agentVersion: String
    public var inventory: [String: String]
    public var createdAt: Int64
    public var lastSeen: Int64

    public init(
        id: String,
        name: String,
        kind: String,
        tags: [String] = [],
        publicKey: [UInt8] = [],
        deviceTokenHash: [UInt8]? = nil,
        agentVersion: String = "",
        inventory: [String: String] = [:],
        createdAt: Int64,
        lastSeen: Int64
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.tags = tags
        self.publicKey = publicKey
        self.deviceTokenHash = deviceTokenHash
        self.agentVersion = agentVersion
        self.inventory = inventory
        self.createdAt = createdAt
        self.lastSeen = lastSeen
    }
}
