import NIOCore
import NIOSSH

/// Records the host key the target presents and, when one was recorded before, refuses any
/// other. Never "accept everything": a changed key may be another machine on that address.
final class HostKeyCheck: NIOSSHClientServerAuthenticationDelegate {
    private let pinned: String?
    private let attempt: SSHAttempt

    init(pinned: String?, attempt: SSHAttempt) {
        self.pinned = pinned.map(HostKeyFingerprint.canonical)
        self.attempt = attempt
    }

    func validateHostKey(hostKey: NIOSSHPublicKey, validationCompletePromise: EventLoopPromise<Void>) {
        let presented = HostKeyFingerprint.canonical(String(openSSHPublicKey: hostKey))
        attempt.update { $0.hostKey = presented }
        if let pinned, !pinned.isEmpty, pinned != presented {
            let expected = HostKeyFingerprint.sha256(openSSHKey: pinned) ?? pinned
            let got = HostKeyFingerprint.sha256(openSSHKey: presented) ?? presented
            let message = "the host key changed: recorded \(expected), presented \(got)"
            attempt.update { $0.hostKeyMismatch = message }
            validationCompletePromise.fail(InstallFailure(.hostKeyChanged, message))
            return
        }
        validationCompletePromise.succeed(())
    }
}
