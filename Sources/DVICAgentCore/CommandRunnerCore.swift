public import DVICProtocol

/// Which commands run and which wait, as a value type: at most `maxParallel` at once, the rest
/// queued in arrival order.
public struct CommandRunnerCore: Sendable {
    public enum Directive: Sendable, Hashable {
        /// Start this command now.
        case start(CommandRequest)
        /// Kill this running command's process group (it was cancelled).
        case kill(commandID: String)
        /// Report that this command ends without having run.
        case finishUnstarted(commandID: String, reason: ExitReason, message: String)
    }

    public private(set) var maxParallel: Int
    public private(set) var running: Set<String> = []
    public private(set) var queue: [CommandRequest] = []
    /// Commands waiting at most; more are refused, so that a flood cannot exhaust memory.
    public let maxQueued: Int

    public init(maxParallel: Int = 4, maxQueued: Int = 256) {
        self.maxParallel = max(1, maxParallel)
        self.maxQueued = maxQueued
    }

    public mutating func submit(_ request: CommandRequest) -> [Directive] {
        if running.contains(request.commandID) || queue.contains(where: { $0.commandID == request.commandID }) {
            return []  // a repeated request (the server resent it after a reconnect)
        }
        if running.count < maxParallel {
            running.insert(request.commandID)
            return [.start(request)]
        }
        guard queue.count < maxQueued else {
            return [.finishUnstarted(commandID: request.commandID, reason: .failedToStart, message: "too many commands waiting")]
        }
        queue.append(request)
        return []
    }

    public mutating func cancel(_ commandID: String) -> [Directive] {
        if running.contains(commandID) { return [.kill(commandID: commandID)] }
        if let index = queue.firstIndex(where: { $0.commandID == commandID }) {
            queue.remove(at: index)
            return [.finishUnstarted(commandID: commandID, reason: .cancelled, message: "cancelled before it started")]
        }
        return []
    }

    public mutating func finished(_ commandID: String) -> [Directive] {
        running.remove(commandID)
        return startWaiting()
    }

    public mutating func setMaxParallel(_ value: Int) -> [Directive] {
        maxParallel = max(1, value)
        return startWaiting()
    }

    private mutating func startWaiting() -> [Directive] {
        var directives: [Directive] = []
        while running.count < maxParallel, !queue.isEmpty {
            let next = queue.removeFirst()
            running.insert(next.commandID)
            directives.append(.start(next))
        }
        return directives
    }
}
