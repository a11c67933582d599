public import Crypto
import DVICProtocol

/// Who the agent is to the server: its node id and the Ed25519 key it signs `hello` with
/// (Spec/protocol.md 6). The private key is made on the node and never leaves it.
///
/// Files under the state directory: `agent.key` (the 32-byte raw private key, mode 0600) and
/// `node-id` (the id the server gave at enrollment, one line).
public struct AgentIdentity: Sendable {
    public static let keyFileName = "agent.key"
    public static let nodeIDFileName = "node-id"

    public let nodeID: String
    public let privateKey: Curve25519.Signing.PrivateKey

    public init(nodeID: String, privateKey: Curve25519.Signing.PrivateKey) {
        self.nodeID = nodeID
        self.privateKey = privateKey
    }

    /// The raw 32-byte public key, as enrollment sends it.
    public var publicKey: [UInt8] { Array(privateKey.publicKey.rawRepresentation) }

    /// The signature of a `hello` answering `nonce`.
    public func signHello(nonce: [UInt8]) throws(AgentError) -> [UInt8] {
        do {
            return Array(try privateKey.signature(for: HelloSignature.signedBytes(nonce: nonce, nodeID: nodeID)))
        } catch {
            throw AgentError(code: .identity, message: "cannot sign the hello: \(error)")
        }
    }

    /// The identity saved under `stateDirectory`, or nil when the node is not enrolled yet.
    public static func load(stateDirectory: String) throws(AgentError) -> AgentIdentity? {
        guard let nodeID = FileSystem.readLine("\(stateDirectory)/\(nodeIDFileName)")?.trimmingASCIIWhitespace(),
            !nodeID.isEmpty
        else { return nil }
        guard let key = try loadKey(stateDirectory: stateDirectory) else {
            throw AgentError(code: .identity, message: "\(stateDirectory)/\(nodeIDFileName) exists but \(keyFileName) does not")
        }
        return AgentIdentity(nodeID: nodeID, privateKey: key)
    }

    /// The saved private key, or nil when there is none.
    public static func loadKey(stateDirectory: String) throws(AgentError) -> Curve25519.Signing.PrivateKey? {
        let path = "\(stateDirectory)/\(keyFileName)"
        guard let bytes = FileSystem.readFile(path, maxBytes: 4096) else { return nil }
        do {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
        } catch {
            throw AgentError(code: .identity, message: "\(path) is not an Ed25519 private key")
        }
    }

    /// The saved private key, made and saved (mode 0600) first when there is none.
    public static func loadOrCreateKey(stateDirectory: String) throws(AgentError) -> Curve25519.Signing.PrivateKey {
        if let key = try loadKey(stateDirectory: stateDirectory) { return key }
        try FileSystem.makeDirectory(stateDirectory, mode: 0o700)
        let key = Curve25519.Signing.PrivateKey()
        try FileSystem.writeAtomically(Array(key.rawRepresentation), to: "\(stateDirectory)/\(keyFileName)", mode: 0o600)
        return key
    }

    /// Saves the node id the server gave at enrollment.
    public static func saveNodeID(_ nodeID: String, stateDirectory: String) throws(AgentError) {
        try FileSystem.makeDirectory(stateDirectory, mode: 0o700)
        try FileSystem.writeAtomically(Array((nodeID + "\n").utf8), to: "\(stateDirectory)/\(nodeIDFileName)", mode: 0o600)
    }
}
