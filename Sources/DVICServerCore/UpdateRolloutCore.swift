public import DVICProtocol

/// One rollout of an agent build across nodes, as a value type with no I/O (as SWIM's
/// `Instance`): the shell feeds it what the registry says about each node, what the agents
/// report (`updateStatus`) and the clock, and it answers with directives (offer the build to
/// these nodes, publish this progress, the rollout is over).
///
/// Nodes go in batches of `batchSize`, in the order given. A batch starts when the one before
/// it succeeded; a node succeeds when it is online with the target version, and fails when its
/// agent reports `refused`, `rolledBack` or `failed`, when the offer cannot be delivered, or
/// when `timeoutMilliseconds` pass after the offer. A batch is over when each of its nodes
/// succeeded or failed; one failed node fails the rollout, and the later batches are skipped.
public struct UpdateRolloutCore: Sendable {
    public enum Phase: String, Sendable, Hashable {
        case pending, offered, downloading, verified, installing, restarted, succeeded, failed, skipped

        public var isTerminal: Bool { self == .succeeded || self == .failed || self == .skipped }
    }

    public enum State: String, Sendable, Hashable {
        case running, succeeded, failed
    }

    public struct Target: Sendable, Hashable {
        public var nodeID: String
        public var name: String
        public var version: String

        public init(nodeID: String, name: String, version: String) {
            self.nodeID = nodeID
            self.name = name
            self.version = version
        }
    }

    public struct NodeProgress: Sendable, Hashable {
        public var nodeID: String
        public var name: String
        public var batch: Int
        public var phase: Phase
        public var message: String
        public var fromVersion: String
        public var offeredAt: Int64
    }

    public enum Directive: Sendable, Hashable {
        /// Send the build's `updateOffer` to these nodes.
        case offer([String])
        /// Tell watchers (jobProgress, kind `update`).
        case progress(step: String, message: String)
        /// The rollout is over.
        case finished(State)
    }

    public let id: String
    public let version: String
    public let batchSize: Int
    public let timeoutMilliseconds: Int64
    public let actor: String
    public let createdAt: Int64
    public private(set) var nodes: [NodeProgress]
    public private(set) var currentBatch = -1
    public private(set) var state = State.running
    public private(set) var message = "starting"
    private var index: [String: Int] = [:]

    public init(id: String, version: String, targets: [Target], batchSize: Int, timeoutMilliseconds: Int64, actor: String, now: Int64) {
        self.id = id
        self.version = version
        self.batchSize = max(1, batchSize)
        self.timeoutMilliseconds = timeoutMilliseconds
        self.actor = actor
        self.createdAt = now
        let size = max(1, batchSize)
        self.nodes = targets.enumerated().map { offset, target in
            NodeProgress(nodeID: target.nodeID, name: target.name, batch: offset / size, phase: .pending, message: "", fromVersion: target.version, offeredAt: 0)
        }
        for (offset, node) in nodes.enumerated() { index[node.nodeID] = offset }
    }

    public var batchCount: Int { (nodes.count + batchSize - 1) / batchSize }
    public var doneCount: Int { nodes.count { $0.phase.isTerminal } }
    public var isFinished: Bool { state != .running }

    /// The node ids of the current batch still waiting for an outcome.
    public var waiting: [String] {
        nodes.filter { $0.batch == currentBatch && !$0.phase.isTerminal && $0.phase != .pending }.map(\.nodeID)
    }

    public mutating func start(now: Int64) -> [Directive] {
        guard currentBatch < 0, state == .running else { return [] }
        if nodes.isEmpty {
            state = .succeeded
            message = "no nodes to update"
            return [.progress(step: "done", message: message), .finished(.succeeded)]
        }
        return startBatch(0, now: now)
    }

    /// What the registry says about a node now.
    public mutating func observe(nodeID: String, online: Bool, agentVersion: String, now: Int64) -> [Directive] {
        guard let position = active(nodeID) else { return [] }
        guard online, agentVersion == version else { return [] }
        nodes[position].phase = .succeeded
        nodes[position].message = "online with \(version)"
        return settle(now: now, step: "node", note: "\(nodes[position].name): online with \(version)")
    }

    /// An agent's `updateStatus`.
    public mutating func agentReported(nodeID: String, version reported: String, state reportedState: UpdateState, message text: String, now: Int64) -> [Directive] {
        guard reported == version, let position = active(nodeID) else { return [] }
        let name = nodes[position].name
        switch reportedState {
        case .downloading, .verified, .installing, .restarted:
            let phase: Phase = switch reportedState {
            case .downloading: .downloading
            case .verified: .verified
            case .installing: .installing
            default: .restarted
            }
            nodes[position].phase = phase
            nodes[position].message = text
            return [.progress(step: phase.rawValue, message: "\(name): \(phase.rawValue)\(text.isEmpty ? "" : " (\(text))")")]
        case .refused, .rolledBack, .failed:
            let word = reportedState == .rolledBack ? "rolled back" : reportedState.name
            nodes[position].phase = .failed
            nodes[position].message = "\(word): \(text)"
            return settle(now: now, step: "node", note: "\(name): \(word): \(text)")
        }
    }

    /// The offer could not be delivered (no connection).
    public mutating func offerFailed(nodeID: String, reason: String, now: Int64) -> [Directive] {
        guard let position = active(nodeID) else { return [] }
        nodes[position].phase = .failed
        nodes[position].message = reason
        return settle(now: now, step: "node", note: "\(nodes[position].name): \(reason)")
    }

    /// Timeouts of the current batch.
    public mutating func tick(now: Int64) -> [Directive] {
        guard state == .running else { return [] }
        var timedOut: [String] = []
        for position in nodes.indices where nodes[position].batch == currentBatch && !nodes[position].phase.isTerminal {
            if now - nodes[position].offeredAt >= timeoutMilliseconds {
                nodes[position].phase = .failed
                nodes[position].message = "did not come back online with \(version) within \(timeoutMilliseconds / 1000) s"
                timedOut.append(nodes[position].name)
            }
        }
        guard !timedOut.isEmpty else { return [] }
        return settle(now: now, step: "node", note: "\(timedOut.joined(separator: ", ")): timed out")
    }

    // MARK: -

    private func active(_ nodeID: String) -> Int? {
        guard state == .running, let position = index[nodeID], nodes[position].batch == currentBatch,
            !nodes[position].phase.isTerminal
        else { return nil }
        return position
    }

    private mutating func startBatch(_ batch: Int, now: Int64) -> [Directive] {
        currentBatch = batch
        var offered: [String] = []
        for position in nodes.indices where nodes[position].batch == batch {
            if nodes[position].fromVersion == version {
                nodes[position].phase = .succeeded
                nodes[position].message = "already at \(version)"
            } else {
                nodes[position].phase = .offered
                nodes[position].message = "offered"
                nodes[position].offeredAt = now
                offered.append(nodes[position].nodeID)
            }
        }
        message = "batch \(batch + 1) of \(batchCount)"
        var directives: [Directive] = [.progress(step: "batch", message: "batch \(batch + 1) of \(batchCount): \(offered.count) node(s) offered \(version)")]
        if !offered.isEmpty { directives.append(.offer(offered)) }
        return directives + settle(now: now, step: nil, note: nil)
    }

    /// After a node's outcome: the batch may be over, and with it the rollout.
    private mutating func settle(now: Int64, step: String?, note: String?) -> [Directive] {
        var directives: [Directive] = []
        if let step, let note { directives.append(.progress(step: step, message: note)) }
        let batch = nodes.filter { $0.batch == currentBatch }
        guard batch.allSatisfy({ $0.phase.isTerminal }) else { return directives }
        let failed = batch.filter { $0.phase == .failed }
        if !failed.isEmpty {
            for position in nodes.indices where nodes[position].batch > currentBatch {
                nodes[position].phase = .skipped
                nodes[position].message = "not offered: batch \(currentBatch + 1) failed"
            }
            state = .failed
            message = "batch \(currentBatch + 1) failed: " + failed.map { "\($0.name): \($0.message)" }.joined(separator: "; ")
            return directives + [.progress(step: "done", message: message), .finished(.failed)]
        }
        if currentBatch + 1 < batchCount {
            return directives + startBatch(currentBatch + 1, now: now)
        }
        state = .succeeded
        message = "\(nodes.count) node(s) on \(version)"
        return directives + [.progress(step: "done", message: message), .finished(.succeeded)]
    }
}
