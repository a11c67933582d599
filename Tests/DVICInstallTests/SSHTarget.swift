import Foundation
import Testing

/// The throwaway sshd that `tools/sshd start` runs (tools/test exports its variables). Without
/// them the SSH tests fail when DVIC_REQUIRE_SSH=1 (CI) and are skipped otherwise.
struct SSHTarget: Sendable {
    let port: Int
    let user: String
    let password: String
    let plainUser: String
    let plainPassword: String
    let hostKey: String

    static let current: SSHTarget? = {
        let env = ProcessInfo.processInfo.environment
        guard let port = env["DVIC_TEST_SSH_PORT"].flatMap(Int.init), let user = env["DVIC_TEST_SSH_USER"],
            let password = env["DVIC_TEST_SSH_PASSWORD"], let plainUser = env["DVIC_TEST_SSH_NOSUDO_USER"],
            let plainPassword = env["DVIC_TEST_SSH_NOSUDO_PASSWORD"], let hostKey = env["DVIC_TEST_SSH_HOST_KEY"]
        else { return nil }
        return SSHTarget(port: port, user: user, password: password, plainUser: plainUser, plainPassword: plainPassword, hostKey: hostKey)
    }()

    static var required: Bool { ProcessInfo.processInfo.environment["DVIC_REQUIRE_SSH"] == "1" }

    /// The target, or nil after recording an issue when CI requires it.
    static func require() -> SSHTarget? {
        if let current { return current }
        if required { Issue.record("no test sshd: run `eval \"$(tools/sshd start)\"` (tools/test does)") }
        return nil
    }
}
