public import DVICProtocol
public import DVICStore
public import Logging
public import ServiceLifecycle

/// Runs commands on one node, a list, a tag or all nodes; streams their output;
/// records exit codes, signals and durations; enforces timeouts; cancels; and
/// brokers terminal sessions between viewers and nodes. Every command and terminal
/// session is audited.
public actor CommandDispatcher: Service {
    public struct CommandError: Error, Hashable, CustomStringConvertible {
        private enum Code: Hashable { case noTargets, notFound, nodeOffline, invalid }
        private let code: Code
        public let message: String
        private init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }
        public static let noTargets = Self(.noTargets, "no node matches the targets")
        public static let notFound = Self(.notFound, "no such command or session")
        public static let nodeOffline = Self(.nodeOffline, "the node is offline")
        public static func invalid(_ message: String) -> Self { .init(.invalid, message) }
        public var isNotFound: Bool { code == .notFound }
        public var description: String { message }
        public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
        public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    }

    private var core: CommandDispatcherCore
    private var pty = PtyBrokerCore()
    private let registry: NodeRegistry
    private let links: LinkDirectory
    private let hub: StreamHub
    private let store: any FleetStore
    private let audit: AuditLog
    private let clock: FleetClock
    private let logger: Logger
    private var viewers: [Int: any ViewerSink] = [:]
    /// Command output and exits from agent connections (`submit`). No gather (unlike
    /// the ingest inboxes): a person is waiting for these results.
    private let reports = ActorInbox<Report>()
    private var nextID: UInt64 = 0
    private let idPrefix: String

    public init(
        registry: NodeRegistry, links: LinkDirectory, hub: StreamHub, store: any FleetStore, audit: AuditLog,
        clock: FleetClock = .system, graceMs: Int64 = 5000, logger: Logger
    ) {
        self.core = CommandDispatcherCore(graceMs: graceMs)
        self.registry = registry
        self.links = links
        self.hub = hub
        self.store = store
        self.audit = audit
        self.clock = clock
        self.logger = logger
        // Ids stay unique across restarts without a store round trip.
        self.idPrefix = String(UInt64(clock.now()), radix: 36)
    }

    private func newID(_ kind: String) -> String {
        nextID += 1
        return "\(kind)-\(idPrefix)-\(nextID)"
    }

    // MARK: Commands

    /// Starts a command; returns its id at once. Results arrive as the nodes answer.
    public func run(
        _ principal: Principal, targets: CommandTargets, commandLine: String, argv: [String]? = nil, timeoutMs: UInt64
    ) async throws(CommandError) -> String {
        guard !commandLine.isEmpty || !(argv ?? []).isEmpty else { throw .invalid("command is empty") }
        let nodes = await registry.select(targets).filter { $0.kind == .agent }
        guard !nodes.isEmpty else { throw .noTargets }
        let id = newID("c")
        let request = CommandRequest(
            commandID: id, mode: argv == nil ? .shell : .argv, argv: argv ?? [commandLine],
            timeoutMs: timeoutMs, maxOutputBytes: UInt64(core.maxOutputBytes))
        let online = nodes.filter { $0.state == .online && links.link($0.id) != nil }
        let onlineIDs = Set(online.map(\.id))
        let offline = nodes.filter { !onlineIDs.contains($0.id) }
        let now = clock.now()
        // Audited and recorded before anything runs, the two writes side by side: each
        // waits for the store's writer, which a large fleet's log ingest keeps busy.
        let store = store
        let audit = audit
        let shown = commandLine.isEmpty ? (argv ?? []).joined(separator: " ") : commandLine
        async let audited: Void = audit.record(principal, action: "command.run", target: nodes.map(\.id).joined(separator: ","), detail: [
            "command": shown, "id": id, "nodes": "\(nodes.count)",
        ])
        async let recorded = try? store.saveCommand(CommandRecord(
            id: id, actor: principal.username, commandLine: shown, targets: nodes.map(\.id), createdAt: now, timeoutMs: Int64(timeoutMs)))
        _ = await (audited, recorded)
        await apply(core.start(id: id, actor: principal.username, request: request, commandLine: commandLine, online: online, offline: offline, now: now))
        return id
    }

    public func cancel(_ principal: Principal, id: String) async throws(CommandError) {
        guard core.commands[id] != nil else { throw .notFound }
        await audit.record(principal, action: "command.cancel", target: id)
        await apply(core.cancel(id: id))
    }

    public func output(nodeID: String, _ output: CommandOutput) async {
        await apply(core.output(nodeID: nodeID, output))
    }

    public func exit(nodeID: String, _ exit: CommandExit) async {
        await apply(core.exit(nodeID: nodeID, exit))
    }

    /// What agent connections report about commands, handed over without a hop each: a
    /// broadcast to 10,000 nodes brings 10,000 exits at once, and each used to cost a hop
    /// here, one to the registry for the node's tags and one to the hub. A drain takes
    /// them in order, many at a time, with one registry and one hub hop for all.
    public nonisolated func submit(nodeID: String, output: CommandOutput) {
        reports.push(.init(nodeID: nodeID, output: output, exit: nil)) { await self.drainReports() }
    }

    public nonisolated func submit(nodeID: String, exit: CommandExit) {
        reports.push(.init(nodeID: nodeID, output: nil, exit: exit)) { await self.drainReports() }
    }

    private func drainReports() async {
        while true {
            let taken = reports.take()
            if taken.isEmpty { return }
            var directives: [CommandDispatcherCore.Directive] = []
            // No suspension inside this loop: reports of a later drain never overtake these.
            for report in taken {
                if let output = report.output { directives += core.output(nodeID: report.nodeID, output) }
                if let exit = report.exit { directives += core.exit(nodeID: report.nodeID, exit) }
            }
            await apply(directives)
        }
    }

    private struct Report: Sendable {
        var nodeID: String
        var output: CommandOutput?
        var exit: CommandExit?
    }

    /// A node's connection ended: its commands are lost and its terminals closed.
    public func nodeLost(_ nodeID: String) async {
        await apply(core.nodeLost(nodeID: nodeID, now: clock.now()))
        await applyPty(pty.nodeLost(nodeID: nodeID))
    }

    /// The command as it stands: from memory while recent, else from the store.
    public func snapshot(_ id: String) async -> CommandDispatcherCore.Command? {
        await drainReports()
        if let command = core.commands[id] { return command }
        guard let stored = try? await store.command(id: id) else { return nil }
        var results: [String: CommandDispatcherCore.NodeResult] = [:]
        for result in stored.results {
            results[result.nodeID] = CommandDispatcherCore.NodeResult(
                nodeID: result.nodeID, nodeName: await registry.node(result.nodeID)?.name ?? result.nodeID,
                reason: Self.reason(result.reason), exitCode: result.exitCode.map(Int64.init), signal: result.signal.map(UInt64.init),
                durationMs: UInt64(max(0, result.durationMs)), stdout: result.stdout, stderr: result.stderr)
        }
        for nodeID in stored.command.targets where results[nodeID] == nil {
            results[nodeID] = CommandDispatcherCore.NodeResult(nodeID: nodeID, nodeName: nodeID, reason: .lost, durationMs: 0, message: "server restarted")
        }
        return CommandDispatcherCore.Command(
            id: id, actor: stored.command.actor, commandLine: stored.command.commandLine, createdAt: stored.command.createdAt,
            timeoutMs: UInt64(max(0, stored.command.timeoutMs)), order: stored.command.targets, results: results)
    }

    static func reason(_ name: String) -> ExitReason {
        ExitReason.allCases.first { $0.name == name } ?? .lost
    }

    // MARK: Terminals

    public func addViewer(_ sink: any ViewerSink) {
        viewers[sink.viewerID] = sink
    }

    public func removeViewer(_ viewerID: Int) {
        viewers[viewerID] = nil
        pty.detach(viewer: viewerID)
    }

    /// Opens a new session on a node, or joins `sessionID` when given.
    public func attach(_ principal: Principal, viewer: Int, request: PtyAttach) async throws(CommandError) -> String {
        guard let node = await registry.node(request.nodeID) else { throw .notFound }
        if !request.sessionID.isEmpty {
            guard let directives = pty.join(sessionID: request.sessionID, nodeID: node.id, viewer: viewer) else { throw .notFound }
            await audit.record(principal, action: "terminal.join", target: node.id, detail: ["session": request.sessionID])
            await applyPty(directives)
            return request.sessionID
        }
        guard node.state == .online, links.link(node.id) != nil else { throw .nodeOffline }
        let id = newID("p")
        await audit.record(principal, action: "terminal.open", target: node.id, detail: ["session": id, "argv": request.argv.joined(separator: " ")])
        await applyPty(pty.open(
            sessionID: id, nodeID: node.id, viewer: viewer, actor: principal.username,
            rows: request.rows, cols: request.cols, argv: request.argv, now: clock.now()))
        return id
    }

    public func ptyInput(viewer: Int, _ input: PtyInput) async {
        await applyPty(pty.input(sessionID: input.sessionID, viewer: viewer, data: input.data))
    }

    public func ptyResize(viewer: Int, _ resize: PtyResize) async {
        await applyPty(pty.resize(sessionID: resize.sessionID, viewer: viewer, rows: resize.rows, cols: resize.cols))
    }

    public func ptyCloseByViewer(viewer: Int, sessionID: String) async {
        await applyPty(pty.closedByViewer(sessionID: sessionID, viewer: viewer))
    }

    public func ptyOutput(nodeID: String, _ output: PtyOutput) async {
        await applyPty(pty.output(nodeID: nodeID, output))
    }

    public func ptyClosed(nodeID: String, _ close: PtyClose) async {
        await applyPty(pty.closedByNode(nodeID: nodeID, close))
    }

    public var openSessions: Int { pty.sessions.count }

    // MARK: Service

    public func run() async throws {
        while await GracefulTimer.tick(.milliseconds(500)) {
            await apply(core.tick(now: clock.now()))
        }
    }

    // MARK: Directives

    private func apply(_ directives: [CommandDispatcherCore.Directive]) async {
        // Progress goes out in one hub hop, with the nodes' tags from one registry hop,
        // however many results the directives carry; in order, before what follows them.
        var progress: [Progress] = []
        for directive in directives {
            switch directive {
            case .send(let nodeID, let message):
                links.send(nodeID: nodeID, [message])
            case .progress(let nodeID, let update):
                progress.append(Progress(nodeID: nodeID, update: update))
            case .finished(let command):
                await publish(progress)
                progress = []
                await persist(command)
            }
        }
        await publish(progress)
    }

    private struct Progress: Sendable {
        var nodeID: String
        var update: CommandProgress
    }

    private func publish(_ progress: [Progress]) async {
        guard !progress.isEmpty else { return }
        let tags = await registry.tags(of: progress.map(\.nodeID))
        await hub.publish(progress.map {
            StreamEvent(kind: .commands, nodeID: $0.nodeID, nodeTags: tags[$0.nodeID] ?? [], message: .commandProgress($0.update))
        })
    }

    private func persist(_ command: CommandDispatcherCore.Command) async {
        let now = clock.now()
        let results = command.order.compactMap { command.results[$0] }.map { result in
            CommandResultRecord(
                commandID: command.id, nodeID: result.nodeID, exitCode: result.exitCode.map { Int($0) }, signal: result.signal.map { Int($0) },
                reason: result.reason?.name ?? "lost", durationMs: Int64(result.durationMs), stdout: result.stdout, stderr: result.stderr, finishedAt: now)
        }
        do {
            try await store.saveCommandResults(results)
        } catch {
            logger.error("command results not stored", metadata: ["command": "\(command.id)", "error": "\(error)"])
        }
        let codes = command.order.map { id in
            let result = command.results[id]
            return "\(id)=\(result?.exitCode.map(String.init) ?? result?.reason?.name ?? "?")"
        }
        await audit.record(Principal(username: command.actor, role: .operator), action: "command.done", target: command.id, detail: ["exit": codes.joined(separator: ",")])
    }

    private func applyPty(_ directives: [PtyBrokerCore.Directive]) async {
        for directive in directives {
            switch directive {
            case .toNode(let nodeID, let message):
                links.send(nodeID: nodeID, [message])
            case .toViewer(let viewer, let message):
                viewers[viewer]?.send(message)
            case .opened:
                break
            case .closed(let session, let exitCode, let reason):
                await audit.record(Principal(username: session.openedBy, role: .operator), action: "terminal.close", target: session.nodeID, detail: [
                    "session": session.id, "exit": "\(exitCode)", "reason": reason,
                ])
            }
        }
    }
}
