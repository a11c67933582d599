public import DVICProtocol
public import DVICServerCore
internal import Logging
public import ServiceLifecycle
internal import Foundation
internal import NIOPosix

/// Runs agent update rollouts (`POST /v1/updates`, `dvic update`): the I/O shell around
/// `UpdateRolloutCore`. It offers the build with a one-time download URL, feeds each rollout
/// what the registry and the agents say, publishes progress as `jobProgress` (kind `update`)
/// on the live stream, and audits each rollout like a command.
///
/// Rollouts live in memory: a server restart ends them (the agents finish or roll back on
/// their own; the registry shows the versions they came back with).
public actor UpdateRollouts: Service {
    public struct RolloutError: Error, Sendable, CustomStringConvertible {
        public struct Code: Sendable, Hashable {
            private enum Value: Sendable, Hashable { case noTargets, noBuild, invalid }
            private let value: Value
            private init(_ value: Value) { self.value = value }
            public static let noTargets = Code(.noTargets)
            /// No signed build with that version (agents refuse unsigned builds).
            public static let noBuild = Code(.noBuild)
            public static let invalid = Code(.invalid)
        }

        public let code: Code
        public let message: String

        init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        public var description: String { message }
    }

    private let registry: NodeRegistry
    private let links: LinkDirectory
    private let hub: StreamHub
    private let audit: AuditLog
    private let builds: AgentBuilds
    private let clock: FleetClock
    private let logger: Logger
    /// The server's own agent's state directory, when it runs one: that agent cannot update
    /// itself (it is the server), so `all` and `tags` leave it out.
    private let localAgentStateDirectory: String?
    private var rollouts: [String: UpdateRolloutCore] = [:]
    private var order: [String] = []
    private var starters: [String: Principal] = [:]
    private var nextID: UInt64 = 0
    private let idPrefix: String
    /// Finished rollouts kept for `GET /v1/updates`.
    private let keepFinished = 50

    init(
        registry: NodeRegistry, links: LinkDirectory, hub: StreamHub, audit: AuditLog, builds: AgentBuilds, clock: FleetClock,
        localAgentStateDirectory: String?, logger: Logger
    ) {
        self.localAgentStateDirectory = localAgentStateDirectory
        self.registry = registry
        self.links = links
        self.hub = hub
        self.audit = audit
        self.builds = builds
        self.clock = clock
        self.logger = logger
        self.idPrefix = String(UInt64(clock.now()), radix: 36)
    }

    /// Starts a rollout; `version` nil takes the newest signed build. Agents of `.all` and
    /// `.tags` that are offline are left out; a node named explicitly fails when offline.
    public func start(
        _ principal: Principal, targets: CommandTargets, version: String?, batchSize: Int, timeoutSeconds: Int
    ) async throws(RolloutError) -> String {
        guard batchSize >= 1, batchSize <= 10_000 else { throw RolloutError(.invalid, "batchSize must be from 1 to 10000") }
        guard timeoutSeconds >= 1, timeoutSeconds <= 86_400 else { throw RolloutError(.invalid, "timeoutSeconds must be from 1 to 86400") }
        let build: AgentBuild?
        if let version, !version.isEmpty {
            build = await builds.build(version: version)
        } else {
            build = await builds.list().first
        }
        guard let build, build.isSigned else {
            throw RolloutError(.noBuild, version.map { "no signed agent build \($0); upload one with `dvic builds upload`" } ?? "no signed agent build is uploaded yet (`dvic builds upload`)")
        }
        var selected = await registry.select(targets).filter { $0.kind == .agent }
        if case .nodes = targets {} else {
            let local = await localAgentNodeID()
            selected = selected.filter { $0.state == .online && $0.id != local }
        }
        guard !selected.isEmpty else { throw RolloutError(.noTargets, "no agent node matches the targets") }
        nextID += 1
        let id = "upd-\(idPrefix)-\(nextID)"
        let now = clock.now()
        var core = UpdateRolloutCore(
            id: id, version: build.version,
            targets: selected.map { UpdateRolloutCore.Target(nodeID: $0.id, name: $0.name, version: $0.agentVersion) },
            batchSize: batchSize, timeoutMilliseconds: Int64(timeoutSeconds) * 1000, actor: principal.username, now: now)
        let directives = core.start(now: now)
        rollouts[id] = core
        starters[id] = principal
        order.append(id)
        await audit.record(principal, action: "update.start", target: id, detail: [
            "version": build.version, "nodes": selected.map(\.id).joined(separator: ","), "batchSize": "\(batchSize)",
        ])
        logger.info("update rollout started", metadata: ["rollout": "\(id)", "version": "\(build.version)", "nodes": "\(selected.count)"])
        await apply(id, directives)
        return id
    }

    public func snapshot(_ id: String) -> UpdateRolloutCore? { rollouts[id] }

    private func localAgentNodeID() async -> String? {
        guard let directory = localAgentStateDirectory else { return nil }
        let text = try? await NIOThreadPool.singleton.runIfActive { try? String(contentsOfFile: directory + "/node-id", encoding: .utf8) }
        return (text ?? nil)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Newest first.
    public func all() -> [UpdateRolloutCore] { order.reversed().compactMap { rollouts[$0] } }

    /// An agent's `updateStatus`.
    public func agentReported(nodeID: String, _ status: UpdateStatus) async {
        for id in order where rollouts[id]?.isFinished == false {
            guard let directives = rollouts[id]?.agentReported(
                nodeID: nodeID, version: status.version, state: status.state, message: status.message, now: clock.now())
            else { continue }
            await apply(id, directives)
        }
    }

    // MARK: Service

    public func run() async throws {
        while await GracefulTimer.tick(.milliseconds(500)) {
            await poll()
        }
    }

    /// Feeds each running rollout the registry's view of its waiting nodes, then the clock.
    func poll() async {
        for id in order where rollouts[id]?.isFinished == false {
            for nodeID in rollouts[id]?.waiting ?? [] {
                guard let node = await registry.node(nodeID) else { continue }
                let directives = rollouts[id]?.observe(nodeID: nodeID, online: node.state == .online, agentVersion: node.agentVersion, now: clock.now()) ?? []
                await apply(id, directives)
            }
            await apply(id, rollouts[id]?.tick(now: clock.now()) ?? [])
        }
    }

    private func apply(_ id: String, _ directives: [UpdateRolloutCore.Directive]) async {
        for directive in directives {
            guard let core = rollouts[id] else { return }
            switch directive {
            case .offer(let nodeIDs):
                guard let build = await builds.build(version: core.version), let signature = build.signatureHex.flatMap(Self.hexBytes),
                    let sha256 = Self.hexBytes(build.sha256Hex)
                else {
                    for nodeID in nodeIDs { await apply(id, rollouts[id]?.offerFailed(nodeID: nodeID, reason: "the build \(core.version) is gone", now: clock.now()) ?? []) }
                    continue
                }
                for nodeID in nodeIDs {
                    // Long enough for a slow link; the token is one-time anyway.
                    let token = await builds.issueDownloadToken(version: build.version, ttl: .seconds(max(600, core.timeoutMilliseconds / 1000)))
                    let offer = UpdateOffer(
                        version: build.version, url: "/v1/agent/download?token=\(token)", size: UInt64(build.size), sha256: sha256, signature: signature)
                    if !links.send(nodeID: nodeID, [.updateOffer(offer)]) {
                        await apply(id, rollouts[id]?.offerFailed(nodeID: nodeID, reason: "offline: the offer could not be delivered", now: clock.now()) ?? [])
                    }
                }
            case .progress(let step, let message):
                let progress = JobProgress(
                    jobID: id, kind: "update", step: step, message: message, done: UInt64(core.doneCount), total: UInt64(core.nodes.count),
                    state: core.state == .running ? .running : (core.state == .succeeded ? .succeeded : .failed))
                await hub.publish(StreamEvent(kind: .jobs, nodeID: "", nodeTags: [], message: .jobProgress(progress)))
            case .finished(let state):
                logger.info("update rollout finished", metadata: ["rollout": "\(id)", "state": "\(state.rawValue)", "message": "\(core.message)"])
                await audit.record(starters[id] ?? Principal(username: core.actor, role: .operator), action: "update.finish", target: id, detail: ["state": state.rawValue, "message": String(core.message.prefix(500))])
                prune()
            }
        }
    }

    private func prune() {
        let finished = order.filter { rollouts[$0]?.isFinished == true }
        for id in finished.dropLast(keepFinished) {
            rollouts[id] = nil
            starters[id] = nil
            order.removeAll { $0 == id }
        }
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < utf8.count {
            guard let byte = UInt8(String(decoding: utf8[index..<(index + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }
}
