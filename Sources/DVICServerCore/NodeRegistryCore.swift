public import DVICProtocol

/// The registry's logic with no I/O: which nodes exist, which are online, and which
/// session is each node's current one. Every event returns what the shell must do.
public struct NodeRegistryCore: Sendable {
    public enum Directive: Sendable, Hashable {
        /// Tell live-stream subscribers.
        case publish(NodeStatus)
        /// Close a session that a newer connection of the same node replaced.
        case closeSession(nodeID: String, sessionID: String)
    }

    public private(set) var nodes: [String: NodeInfo] = [:]
    /// nodeID → current session id.
    public private(set) var sessions: [String: String] = [:]
    /// An agent silent this long is offline even if its socket looks open.
    public var agentTimeoutMs: Int64

    public init(agentTimeoutMs: Int64 = 30_000) {
        self.agentTimeoutMs = agentTimeoutMs
    }

    public mutating func load(_ infos: [NodeInfo]) {
        for var info in infos {
            info.state = .offline
            nodes[info.id] = info
        }
    }

    public mutating func add(_ info: NodeInfo) -> [Directive] {
        nodes[info.id] = info
        return [.publish(info.statusMessage)]
    }

    public mutating func remove(_ nodeID: String) -> [Directive] {
        guard let info = nodes.removeValue(forKey: nodeID) else { return [] }
        var directives: [Directive] = []
        if let session = sessions.removeValue(forKey: nodeID) {
            directives.append(.closeSession(nodeID: nodeID, sessionID: session))
        }
        var gone = info
        gone.state = .offline
        directives.append(.publish(gone.statusMessage))
        return directives
    }

    /// A connection finished its handshake; it replaces any earlier one.
    public mutating func connected(nodeID: String, sessionID: String, agentVersion: String, now: Int64) -> [Directive] {
        guard var info = nodes[nodeID] else { return [] }
        var directives: [Directive] = []
        if let old = sessions[nodeID], old != sessionID {
            directives.append(.closeSession(nodeID: nodeID, sessionID: old))
        }
        sessions[nodeID] = sessionID
        info.lastSeen = now
        info.state = .online
        if !agentVersion.isEmpty { info.agentVersion = agentVersion }
        nodes[nodeID] = info
        directives.append(.publish(info.statusMessage))
        return directives
    }

    /// Only the current session's end takes the node offline; a replaced one's does not.
    public mutating func disconnected(nodeID: String, sessionID: String, now: Int64) -> [Directive] {
        guard sessions[nodeID] == sessionID, var info = nodes[nodeID] else { return [] }
        sessions[nodeID] = nil
        guard info.state != .offline else { return [] }
        info.state = .offline
        nodes[nodeID] = info
        return [.publish(info.statusMessage)]
    }

    /// Something arrived from the node (a frame, a keepalive).
    public mutating func seen(nodeID: String, now: Int64) -> [Directive] {
        guard var info = nodes[nodeID] else { return [] }
        info.lastSeen = max(info.lastSeen, now)
        // An agent is online only while it has a session; a device whenever it posts.
        let shouldBeOnline = info.kind == .device || sessions[nodeID] != nil
        if info.state == .offline && shouldBeOnline {
            info.state = .online
            nodes[nodeID] = info
            return [.publish(info.statusMessage)]
        }
        nodes[nodeID] = info
        return []
    }

    /// Marks silent nodes offline: agents after `agentTimeoutMs`, devices after three
    /// missed keepalive intervals.
    public mutating func tick(now: Int64) -> [Directive] {
        var directives: [Directive] = []
        for (id, info) in nodes where info.state == .online {
            let limit = info.kind == .device ? Int64(info.keepaliveSeconds) * 3000 : agentTimeoutMs
            if now - info.lastSeen > limit {
                var changed = info
                changed.state = .offline
                nodes[id] = changed
                if info.kind == .agent, let session = sessions.removeValue(forKey: id) {
                    directives.append(.closeSession(nodeID: id, sessionID: session))
                }
                directives.append(.publish(changed.statusMessage))
            }
        }
        return directives
    }

    public mutating func update(_ nodeID: String, _ change: (inout NodeInfo) -> Void) -> NodeInfo? {
        guard var info = nodes[nodeID] else { return nil }
        change(&info)
        nodes[nodeID] = info
        return info
    }

    public func isCurrent(nodeID: String, sessionID: String) -> Bool { sessions[nodeID] == sessionID }

    public func select(_ targets: CommandTargets) -> [NodeInfo] {
        nodes.values.filter { targets.matches($0) }.sorted { $0.name < $1.name }
    }
}
