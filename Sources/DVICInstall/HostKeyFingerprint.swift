#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// OpenSSH's `SHA256:…` fingerprint of a host key, so that staff can compare what the install
/// recorded with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the machine.
public enum HostKeyFingerprint {
    /// - Parameter openSSHKey: `TYPE BASE64 [comment]`.
    /// - Returns: nil when the text is not an OpenSSH public key.
    public static func sha256(openSSHKey: String) -> String? {
        let fields = openSSHKey.split(separator: " ")
        guard fields.count >= 2, let blob = Data(base64Encoded: String(fields[1])) else { return nil }
        var text = Data(SHA256.hash(data: blob)).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return "SHA256:" + text
    }

    /// `TYPE BASE64` without a comment, the form compared and stored.
    public static func canonical(_ openSSHKey: String) -> String {
        openSSHKey.split(separator: " ").prefix(2).joined(separator: " ")
    }
}
