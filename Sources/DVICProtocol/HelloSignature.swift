/// What an agent signs in its `hello` (Spec/protocol.md, section 6).
///
/// The context string keeps a signature made for this handshake from being valid for
/// anything else the key might sign; the nonce makes it single-use; the node id binds
/// it to the identity claimed.
public enum HelloSignature {
    public static let context = "dvic-agent-hello-v1"

    /// `context || 0x00 || nonce (32 bytes) || UTF-8(nodeID)`.
    public static func signedBytes(nonce: [UInt8], nodeID: String) -> [UInt8] {
        var bytes = Array(context.utf8)
        bytes.append(0)
        bytes.append(contentsOf: nonce)
        bytes.append(contentsOf: nodeID.utf8)
        return bytes
    }
}
