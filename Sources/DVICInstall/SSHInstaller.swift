public import Logging
public import NIOCore
public import NIOPosix
import NIOSSH
import Synchronization

/// Logs in to a machine over SSH with a password and runs the install command there.
///
/// Steps reported: `connecting`, `authenticated` (with the host key, recorded on first use and
/// refused when it changed), then the install script's own steps. Every way it can fail ends in
/// one `InstallFailure` with its own code: unreachable, host key changed, auth failed, no sudo,
/// download failed, install failed, timed out.
public struct SSHInstaller: Sendable {
    public let eventLoopGroup: any EventLoopGroup
    public let logger: Logger

    public init(eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    public struct Outcome: Sendable {
        /// The target's host key (OpenSSH form), to record.
        public var hostKey: String
        public var steps: [InstallProgressEvent]
    }

    /// Runs the job. `progress` is called in order, possibly from an event loop: keep it short.
    public func run(
        _ job: SSHInstallJob, progress: @escaping @Sendable (InstallProgressEvent) -> Void
    ) async throws(InstallFailure) -> Outcome {
        let attempt = SSHAttempt()
        let scanner = Mutex(InstallOutputScanner())
        progress(InstallProgressEvent(step: "connecting", message: "connecting to \(job)"))
        logger.info("ssh install: connecting", metadata: ["target": "\(job)"])

        // 1. TCP and the SSH handshake.
        let authenticatedBox = Mutex<EventLoopPromise<Void>?>(nil)
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.nanoseconds(Int64(job.connectTimeout.components.seconds) * 1_000_000_000 + job.connectTimeout.components.attoseconds / 1_000_000_000))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let authenticated = channel.eventLoop.makePromise(of: Void.self)
                    authenticatedBox.withLock { $0 = authenticated }
                    let client = SSHClientConfiguration(
                        userAuthDelegate: PasswordAuthenticator(user: job.user, password: job.password, attempt: attempt),
                        serverAuthDelegate: HostKeyCheck(pinned: job.pinnedHostKey, attempt: attempt))
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSHHandler(role: .client(client), allocator: channel.allocator, inboundChildChannelInitializer: nil))
                    try channel.pipeline.syncOperations.addHandler(SSHConnectionWatcher(attempt: attempt, authenticated: authenticated))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: job.host, port: job.port).get()
        } catch {
            throw InstallFailure(.unreachable, "cannot reach \(job.host):\(job.port) (\(Self.describe(error)))")
        }
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(job.timeout.components.seconds) * 1_000_000_000)) {
            attempt.update { $0.timedOut = true }
            channel.close(promise: nil)
        }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }

        do {
            guard let authenticated = authenticatedBox.withLock({ $0 }) else {
                throw InstallFailure(.unreachable, "the SSH connection to \(job.host):\(job.port) did not start")
            }
            try await authenticated.futureResult.get()
        } catch {
            throw classifyHandshake(error, job: job, attempt: attempt)
        }
        let hostKey = attempt.update { $0.hostKey }
        let fingerprint = HostKeyFingerprint.sha256(openSSHKey: hostKey) ?? hostKey
        progress(InstallProgressEvent(step: "authenticated", message: "logged in as \(job.user); host key \(fingerprint)", hostKey: hostKey))

        // 2. The install command, with the password on stdin for sudo -S.
        let exited = channel.eventLoop.makePromise(of: Int?.self)
        let opened = channel.eventLoop.makePromise(of: (any Channel).self)
        let stdin = job.user == "root" ? [] : Array((job.password + "\n").utf8)
        let command = job.command
        channel.eventLoop.execute {
            do {
                let ssh = try channel.pipeline.syncOperations.handler(type: NIOSSHHandler.self)
                ssh.createChannel(opened, channelType: .session) { child, type in
                    guard type == .session else {
                        return child.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
                    }
                    return child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(SSHExecHandler(command: command, stdin: stdin, exited: exited) { bytes, stream in
                            let events = scanner.withLock { $0.feed(bytes.readableBytesView, from: stream) }
                            for event in events { progress(InstallProgressEvent(step: event.step, message: event.message, hostKey: hostKey)) }
                        })
                    }
                }
            } catch {
                opened.fail(error)
            }
        }
        do {
            _ = try await opened.futureResult.get()
        } catch {
            exited.succeed(nil)
            if attempt.update({ $0.timedOut }) { throw InstallFailure(.timedOut, "no answer from \(job.host) within \(job.timeout)") }
            throw InstallFailure(.installFailed, "the target refused a session channel (\(Self.describe(error)))")
        }
        let status = (try? await exited.futureResult.get()) ?? nil
        let tail = scanner.withLock { $0.finish() }
        for event in tail { progress(InstallProgressEvent(step: event.step, message: event.message, hostKey: hostKey)) }
        if attempt.update({ $0.timedOut }) {
            throw InstallFailure(.timedOut, "the install on \(job.host) did not finish within \(job.timeout)")
        }
        let verdict = scanner.withLock { $0.verdict(exitStatus: status) }
        if let verdict {
            logger.warning("ssh install failed", metadata: ["target": "\(job)", "failure": "\(verdict.code)"])
            throw verdict
        }
        logger.info("ssh install: script finished", metadata: ["target": "\(job)"])
        return Outcome(hostKey: hostKey, steps: scanner.withLock { $0.steps })
    }

    private func classifyHandshake(_ error: any Error, job: SSHInstallJob, attempt: SSHAttempt) -> InstallFailure {
        let state = attempt.update { $0 }
        if let mismatch = state.hostKeyMismatch { return InstallFailure(.hostKeyChanged, "\(job.host):\(job.port): \(mismatch)") }
        if state.authRejected || (error as? InstallFailure)?.code == .authFailed || (state.firstError as? InstallFailure)?.code == .authFailed {
            return InstallFailure(.authFailed, "\(job.host):\(job.port) refused the password for user \(job.user)")
        }
        if state.timedOut { return InstallFailure(.timedOut, "no answer from \(job.host):\(job.port) within \(job.timeout)") }
        if let failure = (state.firstError ?? error) as? InstallFailure { return failure }
        return InstallFailure(.unreachable, "\(job.host):\(job.port) closed the SSH handshake (\(Self.describe(state.firstError ?? error)))")
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return "connection timed out"
            case .eof: return "connection closed"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
