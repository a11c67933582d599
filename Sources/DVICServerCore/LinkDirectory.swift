public import DVICProtocol
import Synchronization

/// The live agent connections by node id.
///
/// A lock rather than an actor: acks and command requests are sent from several
/// actors at high rates, and a send is only a queue append, so a hop would cost more
/// than the work.
public final class LinkDirectory: Sendable {
    private let links = Mutex<[String: any NodeLink]>([:])

    public init() {}

    public func set(_ link: any NodeLink) {
        links.withLock { $0[link.nodeID] = link }
    }

    /// Removes the link only if it is still the node's current one.
    public func remove(nodeID: String, sessionID: String) {
        links.withLock { links in
            if links[nodeID]?.sessionID == sessionID { links[nodeID] = nil }
        }
    }

    public func link(_ nodeID: String) -> (any NodeLink)? {
        links.withLock { $0[nodeID] }
    }

    /// Sends to the node's current link; false when it has none.
    @discardableResult
    public func send(nodeID: String, _ messages: [Message]) -> Bool {
        guard let link = link(nodeID) else { return false }
        return link.send(messages)
    }

    /// Sends only if `sessionID` is still the node's session (acks belong to one session).
    @discardableResult
    public func send(nodeID: String, sessionID: String, _ messages: [Message]) -> Bool {
        guard let link = link(nodeID), link.sessionID == sessionID else { return false }
        return link.send(messages)
    }

    public var count: Int { links.withLock { $0.count } }
}
