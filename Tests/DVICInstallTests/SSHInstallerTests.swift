import DVICInstall
import Foundation
import Logging
import Synchronization
import Testing

/// The SSH client against a real OpenSSH server (tools/sshd).
@Suite(.serialized) struct SSHInstallerTests {
    static let logger = Logger(label: "ssh-test")

    static func run(_ job: SSHInstallJob) async -> (Result<SSHInstaller.Outcome, InstallFailure>, [InstallProgressEvent]) {
        let events = Mutex<[InstallProgressEvent]>([])
        do {
            let outcome = try await SSHInstaller(logger: logger).run(job) { event in events.withLock { $0.append(event) } }
            return (.success(outcome), events.withLock { $0 })
        } catch {
            return (.failure(error), events.withLock { $0 })
        }
    }

    @Test func runsTheCommandWithSudoAndRecordsTheHostKey() async throws {
        guard let target = SSHTarget.require() else { return }
        let command = "echo 'DVIC-STEP downloading fetching'; sudo -S -p '' sh -c 'echo DVIC-STEP installed as uid $(id -u)'; echo 'DVIC-STEP started ok'"
        let (result, events) = await Self.run(SSHInstallJob(host: "127.0.0.1", port: target.port, user: target.user, password: target.password, command: command))
        let outcome = try result.get()
        #expect(outcome.hostKey == target.hostKey)
        #expect(events.map(\.step) == ["connecting", "authenticated", "downloading", "installed", "started"])
        #expect(events.first { $0.step == "installed" }?.message == "as uid 0")
        #expect(events.first { $0.step == "authenticated" }?.message.contains("SHA256:") == true)
        // Pinned to the right key, it goes through again.
        let (again, _) = await Self.run(SSHInstallJob(host: "127.0.0.1", port: target.port, user: target.user, password: target.password, pinnedHostKey: target.hostKey, command: "true"))
        #expect((try? again.get()) != nil)
    }

    @Test func wrongPasswordIsAuthFailed() async throws {
        guard let target = SSHTarget.require() else { return }
        let start = ContinuousClock.now
        let (result, events) = await Self.run(SSHInstallJob(host: "127.0.0.1", port: target.port, user: target.user, password: "not-the-password", command: "true"))
        guard case .failure(let failure) = result else {
            Issue.record("a wrong password logged in")
            return
        }
        #expect(failure.code == .authFailed)
        #expect(failure.message.contains(target.user))
        #expect(!events.contains { $0.step == "authenticated" })
        // Offered once, not until sshd gives up (which takes about 17 s): say so if it regressed.
        let elapsed = ContinuousClock.now - start
        if elapsed > .seconds(10) { Issue.record("auth failure took \(elapsed): the password is offered more than once") }
    }

    @Test func closedPortIsUnreachable() async throws {
        guard SSHTarget.require() != nil else { return }
        // Bind a port and close it again: nothing listens there.
        let (result, _) = await Self.run(SSHInstallJob(host: "127.0.0.1", port: 9, user: "x", password: "y", command: "true", connectTimeout: .seconds(3)))
        guard case .failure(let failure) = result else {
            Issue.record("connected to a closed port")
            return
        }
        #expect(failure.code == .unreachable)
        #expect(failure.message.contains("127.0.0.1:9"))
    }

    @Test func changedHostKeyIsRefusedBeforeThePassword() async throws {
        guard let target = SSHTarget.require() else { return }
        let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOfRAoW0Q3/8mF9XRPrSw3bB7l9HVBXnzAQnOpFbjhh"
        let (result, events) = await Self.run(SSHInstallJob(host: "127.0.0.1", port: target.port, user: target.user, password: target.password, pinnedHostKey: other, command: "true"))
        guard case .failure(let failure) = result else {
            Issue.record("a changed host key was accepted")
            return
        }
        #expect(failure.code == .hostKeyChanged)
        #expect(failure.message.contains(HostKeyFingerprint.sha256(openSSHKey: target.hostKey)!))
        #expect(!events.contains { $0.step == "authenticated" })
    }

    @Test func userWithoutSudoIsNoSudo() async throws {
        guard let target = SSHTarget.require() else { return }
        let command = InstallCommand.remote(scriptURL: "http://127.0.0.1:9/never-fetched", user: target.plainUser)
            .replacingOccurrences(of: "curl -fsS", with: "true curl -fsS").replacingOccurrences(of: "wget -q", with: "true wget -q")
        let (result, events) = await Self.run(SSHInstallJob(host: "127.0.0.1", port: target.port, user: target.plainUser, password: target.plainPassword, command: command))
        guard case .failure(let failure) = result else {
            Issue.record("a user without sudo installed")
            return
        }
        #expect(failure.code == .noSudo, "\(failure)")
        #expect(events.contains { $0.step == "authenticated" })
    }
}
