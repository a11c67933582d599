public import DVICProtocol

/// The server's side of one live agent connection, as the actors see it.
///
/// Sending never blocks an actor: a link queues what it is given and its own task
/// writes it out. A link whose queue passes its byte limit closes itself, so one
/// stuck agent never holds the server's memory.
public protocol NodeLink: AnyObject, Sendable {
    var sessionID: String { get }
    var nodeID: String { get }
    /// Queues messages for the agent; false when the link is closed or overloaded.
    @discardableResult func send(_ messages: [Message]) -> Bool
    /// Ends the connection with a reason for the agent's log.
    func close(reason: String)
}
