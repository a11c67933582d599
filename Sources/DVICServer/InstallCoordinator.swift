internal import DVICInstall
public import DVICProtocol
public import DVICServerCore
public import DVICStore
public import Logging
public import ServiceLifecycle
internal import NIOCore
internal import HTTPTypes

/// Runs SSH installs (issue #8): the I/O shell around `InstallJobsCore`.
///
/// A job either goes to a source node's agent as an `installRequest` (the server may not reach
/// the lab network; a node in it does), or, with `via = "server"`, runs here through the same
/// `SSHInstaller` the agents use. Progress comes back as `installProgress`, is published on the
/// live stream as `jobProgress` (kind "install"), and the job is done when the node enrolled with
/// the job's token is online. The password lives in the request and the SSH session only:
/// nothing here stores, logs or audits it.
public actor InstallCoordinator: Service {
    public struct Request: Sendable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String
        /// A node id, or "server".
        public var via: String
        public var name: String
        public var tags: [String]
        public var prefix: String?
        public var timeoutSeconds: Int
        public var replaceHostKey: Bool
        /// The server's URL as the target reaches it.
        public var serverURL: String
    }

    private let store: any FleetStore
    private let hub: StreamHub
    private let links: LinkDirectory
    private let registry: NodeRegistry
    private let audit: AuditLog
    private let clock: FleetClock
    private let logger: Logger
    private var core = InstallJobsCore()
    private let serverJobs: AsyncStream<(String, SSHInstallJob)>
    private let serverJobSink: AsyncStream<(String, SSHInstallJob)>.Continuation

    public init(store: any FleetStore, hub: StreamHub, links: LinkDirectory, registry: NodeRegistry, audit: AuditLog, clock: FleetClock, logger: Logger) {
        self.store = store
        self.hub = hub
        self.links = links
        self.registry = registry
        self.audit = audit
        self.clock = clock
        self.logger = logger
        (serverJobs, serverJobSink) = AsyncStream.makeStream(of: (String, SSHInstallJob).self)
    }

    /// Host keys are kept in the store's settings under this key.
    static func hostKeySetting(host: String, port: Int) -> String { "ssh-host-key/\(host):\(port)" }

    /// Starts a job; throws `APIError`s for what the caller got wrong.
    public func start(_ request: Request, by principal: Principal) async throws -> InstallJobsCore.Job {
        var sourceName = "server"
        if request.via != "server" {
            guard let node = await registry.node(request.via) else { throw APIError.badRequest("via: no node \(request.via)") }
            guard node.kind == .agent else { throw APIError.badRequest("via: \(node.name) is a device; installs go through an agent or the server") }
            guard node.state == .online, links.link(node.id) != nil else {
                throw APIError(.conflict, "source_unavailable", "via: \(node.name) is offline; pick an online node or --via server")
            }
            sourceName = node.name
        }
        let now = clock.now()
        let token = AuthService.newToken(prefix: "dve_")
        let tokenHash = AuthService.sha256(token)
        let timeoutMs = Int64(request.timeoutSeconds) * 1000
        // The token outlives the job a little, so that a slow agent can still enroll and the
        // job says "not online" rather than the enrollment failing.
        try await store.createEnrollment(EnrollmentRecord(
            tokenHash: tokenHash, name: request.name, tags: request.tags, createdBy: principal.username,
            createdAt: now, expiresAt: now + timeoutMs + 600_000))
        let pinned = request.replaceHostKey ? nil : try await store.setting(Self.hostKeySetting(host: request.host, port: request.port))
        let id = "inst-" + AuthService.newToken(prefix: "").prefix(10).lowercased().filter { $0.isLetter || $0.isNumber }
        let job = InstallJobsCore.Job(
            id: id, host: request.host, port: request.port, user: request.user, via: request.via, name: request.name, tags: request.tags,
            createdBy: principal.username, createdAt: now, deadline: now + timeoutMs, enrollmentTokenHash: tokenHash)
        let arguments = request.prefix.map { ["--prefix", $0] } ?? []
        let command = InstallCommand.remote(scriptURL: "\(request.serverURL)/install.sh?token=\(token)", user: request.user, arguments: arguments)
        await audit.record(principal, action: "install.start", target: "\(request.user)@\(request.host):\(request.port)", detail: [
            "job": id, "via": sourceName, "name": request.name, "tags": request.tags.joined(separator: ","),
        ])
        await execute(core.start(job, recordHostKey: pinned == nil))
        logger.info("install started", metadata: ["job": "\(id)", "target": "\(request.user)@\(request.host):\(request.port)", "via": "\(sourceName)"])
        let sshTimeout = max(Int64(10_000), timeoutMs - 5_000)
        if request.via == "server" {
            serverJobSink.yield((id, SSHInstallJob(
                host: request.host, port: request.port, user: request.user, password: request.password, pinnedHostKey: pinned,
                command: command, timeout: .milliseconds(sshTimeout))))
        } else {
            let sent = links.send(nodeID: request.via, [.installRequest(InstallRequest(
                jobID: id, host: request.host, port: UInt64(request.port), user: request.user, password: request.password,
                hostKey: pinned ?? "", command: command, timeoutMs: UInt64(sshTimeout)))])
            if !sent {
                await execute(core.fail(jobID: id, failure: "source_unavailable", message: "\(sourceName) went offline before the job reached it", now: clock.now()))
            }
        }
        return core.job(id) ?? job
    }

    public func job(_ id: String) -> InstallJobsCore.Job? { core.job(id) }
    public func jobs() -> [InstallJobsCore.Job] { core.all }

    /// `installProgress` from an agent.
    public func progress(from nodeID: String, _ progress: InstallProgress) async {
        await execute(core.progress(
            jobID: progress.jobID, from: nodeID, step: progress.step, message: progress.message, hostKey: progress.hostKey,
            failure: progress.failure, finished: progress.finished, now: clock.now()))
    }

    public func enrolled(tokenHash: [UInt8], nodeID: String) {
        core.enrolled(tokenHash: tokenHash, nodeID: nodeID)
    }

    public func online(nodeID: String, name: String) async {
        await execute(core.online(nodeID: nodeID, name: name, now: clock.now()))
    }

    /// A node's last session ended.
    public func sourceLost(_ nodeID: String) async {
        await execute(core.sourceLost(nodeID, now: clock.now()))
    }

    /// Deadlines every second; jobs with `via = "server"` run here, each in its own child task.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                repeat {
                    await self.tick()
                } while await GracefulTimer.tick(.seconds(1))
                self.serverJobSink.finish()
            }
            for await (id, job) in serverJobs.cancelOnGracefulShutdown() {
                group.addTask { await self.runHere(id: id, job: job) }
            }
        }
    }

    private func tick() async {
        await execute(core.tick(now: clock.now()))
    }

    private nonisolated func runHere(id: String, job: SSHInstallJob) async {
        let events = AsyncStream<InstallProgressEvent>.makeStream()
        async let forwarded: Void = {
            for await event in events.stream {
                await self.progress(from: "server", InstallProgress(jobID: id, step: event.step, message: event.message, hostKey: event.hostKey, failure: "", finished: false))
            }
        }()
        let installer = SSHInstaller(logger: logger)
        var failure: InstallFailure?
        do {
            _ = try await installer.run(job) { events.continuation.yield($0) }
        } catch {
            failure = error
        }
        events.continuation.finish()
        await forwarded
        await progress(from: "server", InstallProgress(
            jobID: id, step: "", message: failure?.message ?? "", hostKey: "", failure: failure?.code.name ?? "", finished: true))
    }

    private func execute(_ directives: [InstallJobsCore.Directive]) async {
        for directive in directives {
            switch directive {
            case .publish(let progress):
                await hub.publish(StreamEvent(kind: .jobs, nodeID: "", nodeTags: [], message: .jobProgress(progress)))
            case .recordHostKey(let host, let port, let key):
                do {
                    try await store.setSetting(Self.hostKeySetting(host: host, port: port), key)
                } catch {
                    logger.error("could not record a host key", metadata: ["host": "\(host):\(port)", "error": "\(error)"])
                }
            case .finished(let job):
                let principal = Principal(username: job.createdBy, role: .admin)
                let detail: [String: String] = ["job": job.id, "state": job.state == .succeeded ? "succeeded" : "failed", "failure": job.failure ?? "", "node": job.nodeID ?? ""]
                logger.info("install finished", metadata: ["job": "\(job.id)", "state": "\(detail["state"]!)", "failure": "\(job.failure ?? "")"])
                await audit.record(principal, action: "install.finish", target: "\(job.user)@\(job.host):\(job.port)", detail: detail)
            }
        }
    }
}
