public import DVICProtocol
public import DVICServerCore

/// One stream connection's direct channel: terminal traffic and answers to its own
/// requests, which must not be dropped the way live updates may be.
public final class ViewerLink: ViewerSink {
    public let viewerID: Int
    private let continuation: AsyncStream<Message>.Continuation
    public let outbound: AsyncStream<Message>

    public init(viewerID: Int, queueLimit: Int = 16_384) {
        self.viewerID = viewerID
        (outbound, continuation) = AsyncStream<Message>.makeStream(bufferingPolicy: .bufferingOldest(queueLimit))
    }

    @discardableResult
    public func send(_ message: Message) -> Bool {
        if case .enqueued = continuation.yield(message) { return true }
        // A viewer that cannot keep up with its own terminal is closed.
        continuation.finish()
        return false
    }

    public func finish() {
        continuation.finish()
    }
}
