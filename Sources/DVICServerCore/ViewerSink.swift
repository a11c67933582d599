public import DVICProtocol

/// A stream connection as the terminal broker sees it: messages meant for this one
/// viewer (terminal output must not be dropped like live updates may be).
public protocol ViewerSink: AnyObject, Sendable {
    var viewerID: Int { get }
    @discardableResult func send(_ message: Message) -> Bool
}
