public import DVICProtocol
public import DVICServerCore
import Synchronization

/// One agent connection's outbound side: actors queue messages here and the
/// connection's writer task sends them. The queue is bounded; a link whose agent
/// stops reading is closed instead of growing without end.
public final class AgentLink: NodeLink {
    public let sessionID: String
    public let nodeID: String
    private let continuation: AsyncStream<[Message]>.Continuation
    public let outbound: AsyncStream<[Message]>
    private let reason = Mutex<String?>(nil)

    public init(nodeID: String, sessionID: String, queueLimit: Int = 4096) {
        self.nodeID = nodeID
        self.sessionID = sessionID
        (outbound, continuation) = AsyncStream<[Message]>.makeStream(bufferingPolicy: .bufferingOldest(queueLimit))
    }

    @discardableResult
    public func send(_ messages: [Message]) -> Bool {
        switch continuation.yield(messages) {
        case .enqueued:
            return true
        case .dropped:
            close(reason: "outbound queue full: the agent is not reading")
            return false
        case .terminated:
            return false
        @unknown default:
            return false
        }
    }

    public func close(reason: String) {
        self.reason.withLock { if $0 == nil { $0 = reason } }
        continuation.finish()
    }

    /// Why the link was closed, if it was.
    public var closeReason: String? { reason.withLock { $0 } }
}
