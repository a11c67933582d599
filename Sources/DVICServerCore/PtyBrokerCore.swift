public import DVICProtocol

/// Terminal sessions between viewers and nodes, with no I/O. Several viewers may share
/// a session (like `screen`): all see its output, any may type, and one who joins
/// late first gets the recent scrollback.
public struct PtyBrokerCore: Sendable {
    public struct Session: Sendable, Hashable {
        public var id: String
        public var nodeID: String
        public var openedBy: String
        public var openedAt: Int64
        public var viewers: Set<Int>
        /// The newest output, at most `scrollbackLimit` bytes.
        public var scrollback: [UInt8]
    }

    public enum Directive: Sendable, Hashable {
        case toNode(nodeID: String, Message)
        case toViewer(viewer: Int, Message)
        /// For the audit log.
        case opened(Session)
        case closed(Session, exitCode: Int64, reason: String)
    }

    public let scrollbackLimit: Int
    public private(set) var sessions: [String: Session] = [:]

    public init(scrollbackLimit: Int = 64 * 1024) {
        self.scrollbackLimit = scrollbackLimit
    }

    public mutating func open(sessionID: String, nodeID: String, viewer: Int, actor: String, rows: UInt32, cols: UInt32, argv: [String], now: Int64) -> [Directive] {
        let session = Session(id: sessionID, nodeID: nodeID, openedBy: actor, openedAt: now, viewers: [viewer], scrollback: [])
        sessions[sessionID] = session
        return [
            .toNode(nodeID: nodeID, .ptyOpen(PtyOpen(sessionID: sessionID, rows: rows, cols: cols, argv: argv, env: [KeyValue("TERM", "xterm-256color")]))),
            .toViewer(viewer: viewer, .ptyAttached(PtyAttached(sessionID: sessionID, nodeID: nodeID, scrollback: []))),
            .opened(session),
        ]
    }

    /// Nil when there is no such session (or it is another node's).
    public mutating func join(sessionID: String, nodeID: String, viewer: Int) -> [Directive]? {
        guard var session = sessions[sessionID], session.nodeID == nodeID else { return nil }
        session.viewers.insert(viewer)
        sessions[sessionID] = session
        return [.toViewer(viewer: viewer, .ptyAttached(PtyAttached(sessionID: sessionID, nodeID: nodeID, scrollback: session.scrollback)))]
    }

    public func input(sessionID: String, viewer: Int, data: [UInt8]) -> [Directive] {
        guard let session = sessions[sessionID], session.viewers.contains(viewer) else { return [] }
        return [.toNode(nodeID: session.nodeID, .ptyInput(PtyInput(sessionID: sessionID, data: data)))]
    }

    public func resize(sessionID: String, viewer: Int, rows: UInt32, cols: UInt32) -> [Directive] {
        guard let session = sessions[sessionID], session.viewers.contains(viewer) else { return [] }
        return [.toNode(nodeID: session.nodeID, .ptyResize(PtyResize(sessionID: sessionID, rows: rows, cols: cols)))]
    }

    public mutating func output(nodeID: String, _ output: PtyOutput) -> [Directive] {
        guard var session = sessions[output.sessionID], session.nodeID == nodeID else { return [] }
        session.scrollback += output.data
        if session.scrollback.count > scrollbackLimit {
            session.scrollback.removeFirst(session.scrollback.count - scrollbackLimit)
        }
        sessions[output.sessionID] = session
        return session.viewers.sorted().map { .toViewer(viewer: $0, .ptyOutput(output)) }
    }

    /// The node says the session ended (its shell exited).
    public mutating func closedByNode(nodeID: String, _ close: PtyClose) -> [Directive] {
        guard let session = sessions[close.sessionID], session.nodeID == nodeID else { return [] }
        sessions[close.sessionID] = nil
        return session.viewers.sorted().map { .toViewer(viewer: $0, .ptyClose(close)) } + [.closed(session, exitCode: close.exitCode, reason: close.reason)]
    }

    /// A viewer closes the session for everyone.
    public mutating func closedByViewer(sessionID: String, viewer: Int) -> [Directive] {
        guard let session = sessions[sessionID], session.viewers.contains(viewer) else { return [] }
        sessions[sessionID] = nil
        let close = PtyClose(sessionID: sessionID, exitCode: -1, reason: "closed by viewer")
        return [.toNode(nodeID: session.nodeID, .ptyClose(close))]
            + session.viewers.sorted().map { .toViewer(viewer: $0, .ptyClose(close)) }
            + [.closed(session, exitCode: -1, reason: "closed by viewer")]
    }

    /// A viewer's connection went away; the session stays for the others (and for a
    /// later join) until its shell exits.
    public mutating func detach(viewer: Int) {
        for (id, var session) in sessions where session.viewers.contains(viewer) {
            session.viewers.remove(viewer)
            sessions[id] = session
        }
    }

    public mutating func nodeLost(nodeID: String) -> [Directive] {
        var directives: [Directive] = []
        for (id, session) in sessions where session.nodeID == nodeID {
            sessions[id] = nil
            let close = PtyClose(sessionID: id, exitCode: -1, reason: "node disconnected")
            directives += session.viewers.sorted().map { .toViewer(viewer: $0, .ptyClose(close)) }
            directives.append(.closed(session, exitCode: -1, reason: "node disconnected"))
        }
        return directives
    }
}
