public import DVICProtocol

/// The SSH install jobs, as a value with no I/O: tests drive it with an injected time.
///
/// A job walks the plan `connecting → authenticated → downloading → installed → started →
/// online`. The first five steps are reported by whoever runs the SSH session (a source node's
/// agent, or the server itself); `online` comes from the server when the node enrolled with the
/// job's token completes its handshake. The job is done then — not when the script exits — and
/// fails with its own failure name otherwise (Spec/install.md), at the latest at its deadline.
public struct InstallJobsCore: Sendable {
    public static let plan = ["connecting", "authenticated", "downloading", "installed", "started", "online"]
    /// Finished jobs kept for `GET /v1/installs` (the audit log keeps the rest).
    public static let keptJobs = 200

    public struct Step: Sendable, Hashable {
        public var name: String
        public var message: String
        public var at: Int64
    }

    public struct Job: Sendable, Hashable {
        public var id: String
        public var host: String
        public var port: Int
        public var user: String
        /// A node id, or "server".
        public var via: String
        public var name: String
        public var tags: [String]
        public var createdBy: String
        public var createdAt: Int64
        public var deadline: Int64
        public var enrollmentTokenHash: [UInt8]
        public var state: JobState = .running
        public var steps: [Step] = []
        public var failure: String?
        public var message: String = ""
        public var hostKey: String = ""
        public var nodeID: String?
        public var scriptFinished = false
        public var finishedAt: Int64?

        public init(
            id: String, host: String, port: Int, user: String, via: String, name: String, tags: [String], createdBy: String,
            createdAt: Int64, deadline: Int64, enrollmentTokenHash: [UInt8]
        ) {
            self.id = id
            self.host = host
            self.port = port
            self.user = user
            self.via = via
            self.name = name
            self.tags = tags
            self.createdBy = createdBy
            self.createdAt = createdAt
            self.deadline = deadline
            self.enrollmentTokenHash = enrollmentTokenHash
        }

        /// Steps of the plan reached so far (for `done` of `total`).
        public var done: Int {
            steps.compactMap { InstallJobsCore.plan.firstIndex(of: $0.name) }.max().map { $0 + 1 } ?? 0
        }

        public var progressMessage: JobProgress {
            let last = steps.last
            return JobProgress(
                jobID: id, kind: "install", step: state == .failed ? "failed" : (last?.name ?? "queued"),
                message: state == .failed ? "\(failure ?? "failed"): \(message)" : (last?.message ?? ""),
                done: UInt64(done), total: UInt64(InstallJobsCore.plan.count), state: state)
        }
    }

    public enum Directive: Sendable, Hashable {
        /// Tell stream subscribers (kind "install").
        case publish(JobProgress)
        /// Record the target's host key (first use, or replaced on request).
        case recordHostKey(host: String, port: Int, key: String)
        /// The job ended (audit it).
        case finished(Job)
    }

    private var jobs: [String: Job] = [:]
    private var order: [String] = []
    /// Jobs whose host key may be (re)recorded when first seen.
    private var recordsHostKey: Set<String> = []

    public init() {}

    public func job(_ id: String) -> Job? { jobs[id] }

    /// Newest first.
    public var all: [Job] { order.reversed().compactMap { jobs[$0] } }

    public mutating func start(_ job: Job, recordHostKey: Bool) -> [Directive] {
        jobs[job.id] = job
        order.append(job.id)
        if recordHostKey { recordsHostKey.insert(job.id) }
        trim()
        return [.publish(job.progressMessage)]
    }

    /// A step, or the end, reported by the side running SSH. Reports from another node than the
    /// job's source are ignored: a node must not steer another node's install.
    public mutating func progress(
        jobID: String, from source: String, step: String, message: String, hostKey: String, failure: String, finished: Bool, now: Int64
    ) -> [Directive] {
        guard var job = jobs[jobID], job.state == .running, job.via == source else { return [] }
        var directives: [Directive] = []
        if !hostKey.isEmpty, job.hostKey != hostKey {
            job.hostKey = hostKey
            if recordsHostKey.remove(jobID) != nil {
                directives.append(.recordHostKey(host: job.host, port: job.port, key: hostKey))
            }
        }
        if !failure.isEmpty {
            job.state = .failed
            job.failure = failure
            job.message = message
            job.finishedAt = now
            jobs[jobID] = job
            return directives + [.publish(job.progressMessage), .finished(job)]
        }
        if !step.isEmpty, step != "online", !job.steps.contains(where: { $0.name == step }) {
            job.steps.append(Step(name: step, message: String(message.prefix(512)), at: now))
            directives.append(.publish(job.progressMessage))
        }
        if finished { job.scriptFinished = true }
        jobs[jobID] = job
        return directives
    }

    /// A node enrolled; if with a job's token, the job now waits for that node.
    public mutating func enrolled(tokenHash: [UInt8], nodeID: String) {
        guard let id = order.last(where: { jobs[$0]?.enrollmentTokenHash == tokenHash && jobs[$0]?.state == .running }) else { return }
        jobs[id]?.nodeID = nodeID
    }

    /// A node completed its handshake.
    public mutating func online(nodeID: String, name: String, now: Int64) -> [Directive] {
        guard let id = order.last(where: { jobs[$0]?.nodeID == nodeID && jobs[$0]?.state == .running }), var job = jobs[id] else { return [] }
        // The agent can connect before the script has said `started` (it checks the agent is
        // still alive a second later): a node online is an agent started.
        if !job.steps.contains(where: { $0.name == "started" }) {
            job.steps.append(Step(name: "started", message: "the agent started and connected", at: now))
        }
        job.steps.append(Step(name: "online", message: "node \(name) (\(nodeID)) is online", at: now))
        job.state = .succeeded
        job.finishedAt = now
        jobs[id] = job
        return [.publish(job.progressMessage), .finished(job)]
    }

    /// Fails jobs past their deadline, with what they were waiting for.
    public mutating func tick(now: Int64) -> [Directive] {
        var directives: [Directive] = []
        for id in order {
            guard var job = jobs[id], job.state == .running, now >= job.deadline else { continue }
            let seconds = (job.deadline - job.createdAt) / 1000
            job.state = .failed
            if job.scriptFinished || job.nodeID != nil {
                job.failure = "not_online"
                job.message = "the agent was installed but did not come online within \(seconds) s (check that the machine reaches the server)"
            } else {
                job.failure = "timed_out"
                job.message = "the install did not finish within \(seconds) s (last step: \(job.steps.last?.name ?? "none"))"
            }
            job.finishedAt = now
            jobs[id] = job
            directives += [.publish(job.progressMessage), .finished(job)]
        }
        return directives
    }

    /// The source node disconnected: its SSH sessions are gone with it, so its jobs that had
    /// not finished the script fail now rather than at their deadline.
    public mutating func sourceLost(_ nodeID: String, now: Int64) -> [Directive] {
        var directives: [Directive] = []
        for id in order {
            guard let job = jobs[id], job.state == .running, job.via == nodeID, !job.scriptFinished else { continue }
            directives += fail(jobID: id, failure: "source_unavailable", message: "the source node disconnected during the install", now: now)
        }
        return directives
    }

    /// Fails a job at once (its source could not be reached, the server's own SSH failed, …).
    public mutating func fail(jobID: String, failure: String, message: String, now: Int64) -> [Directive] {
        guard var job = jobs[jobID], job.state == .running else { return [] }
        job.state = .failed
        job.failure = failure
        job.message = message
        job.finishedAt = now
        jobs[jobID] = job
        return [.publish(job.progressMessage), .finished(job)]
    }

    private mutating func trim() {
        while order.count > Self.keptJobs, let index = order.firstIndex(where: { jobs[$0]?.state != .running }) {
            let id = order.remove(at: index)
            jobs[id] = nil
            recordsHostKey.remove(id)
        }
    }
}
