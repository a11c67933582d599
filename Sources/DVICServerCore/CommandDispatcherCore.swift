public import DVICProtocol

/// The command dispatcher's logic with no I/O: which nodes each command went to, what
/// came back, when it times out. Events return directives for the shell.
public struct CommandDispatcherCore: Sendable {
    public struct NodeResult: Sendable, Hashable {
        public var nodeID: String
        public var nodeName: String
        public var reason: ExitReason?
        public var exitCode: Int64?
        public var signal: UInt64?
        public var durationMs: UInt64
        public var stdout: [UInt8] = []
        public var stderr: [UInt8] = []
        public var message: String = ""
        public var truncated = false
        public var done: Bool { reason != nil }
    }

    public struct Command: Sendable, Hashable {
        public var id: String
        public var actor: String
        public var commandLine: String
        public var createdAt: Int64
        public var timeoutMs: UInt64
        /// Node ids in the order results are shown.
        public var order: [String]
        public fileprivate(set) var results: [String: NodeResult]
        /// How many results are done, kept up to date as results change: counting them
        /// on every answer made a broadcast to 10,000 nodes quadratic (dvic-loadtest).
        public fileprivate(set) var doneCount: Int
        public var isDone: Bool { doneCount == order.count }

        public init(id: String, actor: String, commandLine: String, createdAt: Int64, timeoutMs: UInt64, order: [String], results: [String: NodeResult]) {
            self.id = id
            self.actor = actor
            self.commandLine = commandLine
            self.createdAt = createdAt
            self.timeoutMs = timeoutMs
            self.order = order
            self.results = results
            self.doneCount = results.values.filter(\.done).count
        }

        /// Sets a node's result and keeps `doneCount`.
        fileprivate mutating func set(_ result: NodeResult, for nodeID: String) {
            let wasDone = results[nodeID]?.done ?? false
            results[nodeID] = result
            if result.done != wasDone { doneCount += result.done ? 1 : -1 }
        }
    }

    public enum Directive: Sendable, Hashable {
        case send(nodeID: String, Message)
        case progress(nodeID: String, CommandProgress)
        /// Every node answered (or was given up on): persist and audit.
        case finished(Command)
    }

    /// Output kept per node and stream; more is dropped and flagged.
    public let maxOutputBytes: Int
    /// Grace after the agent's own timeout before the server gives up on a node.
    public let graceMs: Int64
    public private(set) var commands: [String: Command] = [:]
    /// Finished commands kept in memory for quick reads; older ones come from the store.
    private var finishedOrder: [String] = []
    public let keepFinished: Int

    public init(maxOutputBytes: Int = 64 * 1024, graceMs: Int64 = 5000, keepFinished: Int = 200) {
        self.maxOutputBytes = maxOutputBytes
        self.graceMs = graceMs
        self.keepFinished = keepFinished
    }

    /// Starts a command on `online` nodes; `offline` ones get a `lost` result at once.
    public mutating func start(
        id: String, actor: String, request: CommandRequest, commandLine: String,
        online: [NodeInfo], offline: [NodeInfo], now: Int64
    ) -> [Directive] {
        var command = Command(id: id, actor: actor, commandLine: commandLine, createdAt: now, timeoutMs: request.timeoutMs, order: [], results: [:])
        var directives: [Directive] = []
        for node in online {
            command.order.append(node.id)
            command.set(NodeResult(nodeID: node.id, nodeName: node.name, durationMs: 0), for: node.id)
            directives.append(.send(nodeID: node.id, .commandRequest(request)))
        }
        for node in offline {
            command.order.append(node.id)
            command.set(NodeResult(
                nodeID: node.id, nodeName: node.name, reason: .lost, exitCode: nil, durationMs: 0, message: "node is offline"), for: node.id)
        }
        commands[id] = command
        let total = UInt64(command.order.count)
        for node in offline {
            directives.append(.progress(nodeID: node.id, progress(command, node.id, event: .exit, data: [], total: total)))
        }
        if command.isDone { directives += finish(id) }
        return directives
    }

    public mutating func output(nodeID: String, _ output: CommandOutput) -> [Directive] {
        guard var result = commands[output.commandID]?.results[nodeID], !result.done, var command = take(output.commandID) else { return [] }
        var kept = output.data
        let current = output.stream == .stdout ? result.stdout.count : result.stderr.count
        if current + kept.count > maxOutputBytes {
            kept = Array(kept.prefix(max(0, maxOutputBytes - current)))
            result.truncated = true
        }
        if output.stream == .stdout { result.stdout += kept } else { result.stderr += kept }
        command.set(result, for: nodeID)
        commands[output.commandID] = command
        let event: ProgressEvent = output.stream == .stdout ? .stdout : .stderr
        return [.progress(nodeID: nodeID, progress(command, nodeID, event: event, data: output.data, total: UInt64(command.order.count)))]
    }

    public mutating func exit(nodeID: String, _ exit: CommandExit) -> [Directive] {
        guard var result = commands[exit.commandID]?.results[nodeID], !result.done, var command = take(exit.commandID) else { return [] }
        result.reason = exit.reason
        result.exitCode = exit.reason == .exited ? exit.exitCode : nil
        result.signal = exit.signal == 0 ? nil : exit.signal
        result.durationMs = exit.durationMs
        result.message = exit.message
        command.set(result, for: nodeID)
        commands[exit.commandID] = command
        var directives: [Directive] = [.progress(nodeID: nodeID, progress(command, nodeID, event: .exit, data: [], total: UInt64(command.order.count)))]
        if command.isDone { directives += finish(exit.commandID) }
        return directives
    }

    /// A node's connection ended: what it was running is lost.
    public mutating func nodeLost(nodeID: String, now: Int64) -> [Directive] {
        var directives: [Directive] = []
        for id in commands.keys.sorted() {
            guard let command = commands[id], let result = command.results[nodeID], !result.done else { continue }
            directives += give(up: id, nodeID: nodeID, reason: .lost, message: "node disconnected", now: now)
        }
        return directives
    }

    /// Asks every node still running it to stop; results come back as `cancelled`.
    public mutating func cancel(id: String) -> [Directive] {
        guard let command = commands[id] else { return [] }
        return command.order.compactMap { nodeID in
            guard let result = command.results[nodeID], !result.done else { return nil }
            return .send(nodeID: nodeID, .commandCancel(CommandCancel(commandID: id)))
        }
    }

    /// Gives up on nodes past the timeout plus grace (their agent should have ended it).
    public mutating func tick(now: Int64) -> [Directive] {
        var directives: [Directive] = []
        for id in commands.keys.sorted() {
            // The node list is taken first, so no copy of the command stays alive while
            // `give` changes it (which would copy every result, per node given up on).
            let pending: [String] = {
                guard let command = commands[id], !command.isDone, now - command.createdAt > Int64(command.timeoutMs) + graceMs else { return [] }
                return command.order.filter { command.results[$0]?.done == false }
            }()
            for nodeID in pending {
                directives.append(.send(nodeID: nodeID, .commandCancel(CommandCancel(commandID: id))))
                directives += give(up: id, nodeID: nodeID, reason: .timedOut, message: "no answer within the timeout", now: now)
            }
        }
        return directives
    }

    private mutating func give(up id: String, nodeID: String, reason: ExitReason, message: String, now: Int64) -> [Directive] {
        guard var result = commands[id]?.results[nodeID], var command = take(id) else { return [] }
        result.reason = reason
        result.message = message
        result.durationMs = UInt64(max(0, now - command.createdAt))
        command.set(result, for: nodeID)
        commands[id] = command
        var directives: [Directive] = [.progress(nodeID: nodeID, progress(command, nodeID, event: .exit, data: [], total: UInt64(command.order.count)))]
        if command.isDone { directives += finish(id) }
        return directives
    }

    /// Removes the command to change it: a copy taken while the dictionary still holds
    /// it would copy all its results on the first write (per answer, for every node).
    private mutating func take(_ id: String) -> Command? {
        commands.removeValue(forKey: id)
    }

    private mutating func finish(_ id: String) -> [Directive] {
        guard let command = commands[id] else { return [] }
        finishedOrder.append(id)
        while finishedOrder.count > keepFinished {
            commands[finishedOrder.removeFirst()] = nil
        }
        return [.finished(command)]
    }

    private func progress(_ command: Command, _ nodeID: String, event: ProgressEvent, data: [UInt8], total: UInt64) -> CommandProgress {
        let result = command.results[nodeID]
        return CommandProgress(
            commandID: command.id, nodeID: nodeID, event: event, data: data,
            exitCode: result?.exitCode ?? -1, durationMs: result?.durationMs ?? 0,
            done: UInt64(command.doneCount), total: total)
    }
}
