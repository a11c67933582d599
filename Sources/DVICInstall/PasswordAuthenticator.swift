import NIOCore
import NIOSSH

/// Offers the password once. A second request means the server refused it: offering it again
/// would loop until sshd gives up (17 s with OpenSSH 9.2), so the second call ends the attempt.
final class PasswordAuthenticator: NIOSSHClientUserAuthenticationDelegate {
    private let user: String
    private let password: String
    private let attempt: SSHAttempt

    init(user: String, password: String, attempt: SSHAttempt) {
        self.user = user
        self.password = password
        self.attempt = attempt
    }

    func nextAuthenticationType(
        availableMethods: NIOSSHAvailableUserAuthenticationMethods,
        nextChallengePromise: EventLoopPromise<NIOSSHUserAuthenticationOffer?>
    ) {
        let offers = attempt.update { state -> Int in
            state.passwordOffers += 1
            if state.passwordOffers > 1 || !availableMethods.contains(.password) { state.authRejected = true }
            return state.passwordOffers
        }
        guard offers == 1, availableMethods.contains(.password) else {
            nextChallengePromise.fail(InstallFailure(.authFailed, "the target refused the password"))
            return
        }
        nextChallengePromise.succeed(
            NIOSSHUserAuthenticationOffer(username: user, serviceName: "", offer: .password(.init(password: password))))
    }
}
