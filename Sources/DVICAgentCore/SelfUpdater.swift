#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CPty
public import DVICProtocol
public import Logging

/// Updates the agent's own executable when the server offers a build (`updateOffer`,
/// Spec/updates.md), and guards the restart.
///
/// 1. Refuse without a release key (`release-key` in the config), download into the
///    executable's directory, check size, SHA-256 and the release key's signature over the
///    SHA-256; any mismatch is `refused` and the file is deleted.
/// 2. Trial: run the new build as a child (`--update-trial`) with the same flags, config and
///    identity; it must complete a handshake with the server within `update-timeout`.
///    Otherwise it is killed, nothing is swapped, and the agent reports `rolledBack`.
/// 3. Swap: hard-link the running executable to `<exe>.previous` (the backup), rename the
///    new build over `<exe>` (atomic, same directory), leave `update-pending` in the state
///    directory, and `execv` in place: the pid stays, so systemd and plain starts alike see
///    the same process.
/// 4. Post-exec guard: the new process finds `update-pending` naming its own version. Once
///    connected it reports `restarted` and removes it; if it cannot connect within
///    `update-timeout`, it renames the backup back, leaves `update-rolledback` and execs the
///    old build with the old process's flags (kept in the marker), which reports
///    `rolledBack` once connected.
///
/// Every step's `updateStatus` goes through the runtime while the session is up.
public actor SelfUpdater {
    public struct Settings: Sendable {
        /// The running executable; nil when the agent runs inside the server (no self-update).
        public var executable: String?
        /// The flags the agent was started with (without argv[0]): the trial and the exec get them.
        public var arguments: [String]
        public var releaseKey: String?
        public var serverURL: String
        public var stateDirectory: String
        /// How long a trial or a restarted build has to reach the server.
        public var timeout: Duration

        public init(executable: String?, arguments: [String], releaseKey: String?, serverURL: String, stateDirectory: String, timeout: Duration) {
            self.executable = executable
            self.arguments = arguments
            self.releaseKey = releaseKey
            self.serverURL = serverURL
            self.stateDirectory = stateDirectory
            self.timeout = timeout
        }
    }

    let settings: Settings
    let runtime: AgentRuntime
    let downloader: UpdateDownloader
    let logger: Logger

    public init(settings: Settings, runtime: AgentRuntime, downloader: UpdateDownloader, logger: Logger) {
        self.settings = settings
        self.runtime = runtime
        self.downloader = downloader
        self.logger = logger
    }

    var pendingPath: String { "\(settings.stateDirectory)/\(UpdateMarker.pendingFile)" }
    var rolledBackPath: String { "\(settings.stateDirectory)/\(UpdateMarker.rolledBackFile)" }

    /// Guards a restart that just happened, then handles offers one at a time until cancelled.
    public func run(offers: AsyncStream<UpdateOffer>) async {
        await guardRestart()
        for await offer in offers {
            await handle(offer)
        }
    }

    // MARK: The offer

    func handle(_ offer: UpdateOffer) async {
        let version = offer.version
        guard let executable = settings.executable else {
            return await report(version, .refused, "this agent runs inside dvic-server; update the server instead")
        }
        guard let keyText = settings.releaseKey, !keyText.isEmpty else {
            return await report(version, .refused, "no release key is configured (release-key in the agent config), so no build can be trusted")
        }
        let key: ReleaseKey
        do {
            key = try ReleaseKey(text: keyText)
        } catch {
            return await report(version, .refused, "the configured release key is unusable: \(error.message)")
        }
        guard AgentVersionStamp.isValidVersion(version) else {
            return await report(version, .refused, "\(version) is not a valid agent version")
        }
        if version == AgentVersion.current {
            return await report(version, .restarted, "already running \(version)")
        }
        let directory = Self.directory(of: executable)
        let incoming = "\(directory)/.dvic-agent.incoming"
        logger.info("update offered", metadata: ["version": "\(version)", "size": "\(offer.size)"])
        await report(version, .downloading, "\(offer.size) bytes")
        do throws(UpdateError) {
            let (digest, size) = try await downloader.download(
                url: offer.url, serverURL: settings.serverURL, to: incoming, maxBytes: Int(offer.size), timeout: .seconds(900))
            guard size == Int(offer.size) else { throw UpdateError(.sizeMismatch, "got \(size) bytes, the offer says \(offer.size)") }
            try key.verify(digest: digest, expectedSHA256: offer.sha256, signature: offer.signature)
        } catch {
            FileSystem.remove(incoming)
            logger.warning("update refused", metadata: ["version": "\(version)", "error": "\(error)"])
            return await report(version, error.code == .download ? .failed : .refused, error.message)
        }
        await report(version, .verified, "SHA-256 and signature match the release key")
        chmod(incoming, 0o755)

        if let failure = await trial(incoming) {
            FileSystem.remove(incoming)
            logger.warning("update trial failed; keeping the running build", metadata: ["version": "\(version)", "reason": "\(failure)"])
            return await report(version, .rolledBack, "the new build did not reach the server (\(failure)); \(AgentVersion.current) keeps running")
        }

        await report(version, .installing, "swapping the executable and restarting")
        let backup = executable + ".previous"
        unlink(backup)
        guard link(executable, backup) == 0 else {
            let saved = errno
            FileSystem.remove(incoming)
            return await report(version, .failed, "cannot keep a backup at \(backup): errno \(saved)")
        }
        guard rename(incoming, executable) == 0 else {
            let saved = errno
            FileSystem.remove(incoming)
            return await report(version, .failed, "cannot replace \(executable): errno \(saved)")
        }
        do {
            let marker = UpdateMarker(version: version, executable: executable, backup: backup, arguments: settings.arguments)
            try FileSystem.writeAtomically(Array(marker.text.utf8), to: pendingPath, mode: 0o600)
        } catch {
            _ = rename(backup, executable)
            return await report(version, .failed, "cannot write \(pendingPath): \(error)")
        }
        let saved = await restart(executable, arguments: settings.arguments, reason: "update to \(version)")
        // execv returned: put the old build back.
        _ = rename(backup, executable)
        FileSystem.remove(pendingPath)
        await report(version, .failed, "cannot exec \(executable): errno \(saved)")
    }

    /// Runs `build --update-trial` with the agent's flags; nil when it reached the server.
    func trial(_ build: String) async -> String? {
        let seconds = max(1, settings.timeout.components.seconds)
        let argv = [build, UpdateTrial.flag, "\(seconds)"] + settings.arguments
        var pid: pid_t = 0
        // stdout and stderr are the agent's own, so the trial's log lands in the same journal.
        let result = withCStrings(argv) { cArgv in dvic_spawn(build, cArgv, dvic_environ(), 0, 1, 2, &pid) }
        guard result == 0 else { return "it could not be started: \(String(cString: strerror(result)))" }
        let deadline = ContinuousClock.now + .seconds(seconds + 5)
        while ContinuousClock.now < deadline {
            if let termination = ChildProcess.reap(pid) {
                switch termination {
                case .exited(0): return nil
                case .exited(let code): return "it exited with status \(code)"
                case .signaled(let signal): return "it was killed by signal \(signal)"
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        kill(-pid, SIGKILL)
        _ = await ChildProcess.wait(for: pid)
        return "no handshake within \(seconds) s"
    }

    // MARK: After the exec

    /// The post-exec guard (step 4).
    func guardRestart() async {
        if let marker = UpdateMarker.read(pendingPath) {
            if marker.version == AgentVersion.current {
                if await waitUntilEstablished(within: settings.timeout) {
                    FileSystem.remove(pendingPath)
                    logger.info("update complete", metadata: ["version": "\(marker.version)"])
                    await report(marker.version, .restarted, "running \(marker.version)")
                } else {
                    let reason = "\(marker.version) did not reach the server within \(settings.timeout.components.seconds) s of its restart"
                    logger.error("rolling back the update", metadata: ["version": "\(marker.version)", "reason": "\(reason)"])
                    guard rename(marker.backup, marker.executable) == 0 else {
                        logger.error("cannot restore the previous build", metadata: ["backup": "\(marker.backup)", "errno": "\(errno)"])
                        FileSystem.remove(pendingPath)
                        return
                    }
                    var rolledBack = marker
                    rolledBack.reason = reason
                    try? FileSystem.writeAtomically(Array(rolledBack.text.utf8), to: rolledBackPath, mode: 0o600)
                    FileSystem.remove(pendingPath)
                    let saved = await restart(marker.executable, arguments: marker.arguments.isEmpty ? settings.arguments : marker.arguments, reason: "rollback from \(marker.version)")
                    logger.error("cannot exec the previous build", metadata: ["errno": "\(saved)"])
                }
            } else {
                // The marker of an update this build is not (a rollback left it, or it is stale).
                FileSystem.remove(pendingPath)
            }
        }
        if let marker = UpdateMarker.read(rolledBackPath) {
            while !(await waitUntilEstablished(within: .seconds(3600))) {}
            FileSystem.remove(rolledBackPath)
            await report(marker.version, .rolledBack, "\(marker.reason); back on \(AgentVersion.current)")
        }
    }

    func waitUntilEstablished(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await runtime.isEstablished { return true }
            do { try await Task.sleep(for: .milliseconds(200)) } catch { return false }
        }
        return await runtime.isEstablished
    }

    // MARK: -

    func report(_ version: String, _ state: UpdateState, _ message: String) async {
        await runtime.enqueue([.updateStatus(UpdateStatus(version: version, state: state, message: message))])
    }

    /// Syncs the spool, gives the writer a moment to send the last status, and execs
    /// `executable` with `arguments`. Returns only when execv failed, with its errno (read
    /// here: after an `await` the caller may be on another thread, with another errno).
    func restart(_ executable: String, arguments: [String], reason: String) async -> Int32 {
        logger.notice("restarting", metadata: ["executable": "\(executable)", "reason": "\(reason)"])
        await runtime.shutdown()
        // The status just queued is informational; half a second lets the writer send it.
        try? await Task.sleep(for: .milliseconds(500))
        // The new image inherits the signal mask and ignored signals: start it clean.
        var empty = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, nil)
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        // Without this the new image keeps what NIO still has open (NIO's descriptors are
        // not close-on-exec; the update test saw a socket and two epoll sets carried
        // over): a leak per update, and a socket whose peer never sees it end.
        _ = dvic_cloexec_from(3)
        let argv = [executable] + arguments
        _ = withCStrings(argv) { cArgv in execv(executable, cArgv) }
        return errno
    }

    /// This process's executable (`/proc/self/exe`), read at start: after a swap the link
    /// would name the backup.
    public static func runningExecutable() -> String? {
        FileSystem.readLink("/proc/self/exe")
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
