public import DVICProtocol
public import DVICServerCore
import Synchronization

/// One agent connection's outbound side: actors queue messages here and the
/// connection's writer task sends them. The queue is bounded in bytes (estimated
/// before encoding) and in entries; a link whose agent stops reading is closed
/// instead of growing without end.
public final class AgentLink: NodeLink {
    public let sessionID: String
    public let nodeID: String
    private let continuation: AsyncStream<[Message]>.Continuation
    public let outbound: AsyncStream<[Message]>
    private let reason = Mutex<String?>(nil)
    private let pendingBytes = Atomic<Int>(0)
    private let maxPendingBytes: Int

    public init(nodeID: String, sessionID: String, maxPendingBytes: Int = 8 << 20, queueLimit: Int = 16_384) {
        self.nodeID = nodeID
        self.sessionID = sessionID
        self.maxPendingBytes = maxPendingBytes
        (outbound, continuation) = AsyncStream<[Message]>.makeStream(bufferingPolicy: .bufferingOldest(queueLimit))
    }

    /// Estimated bytes of a batch: its data fields plus a little per message.
    static func estimate(_ messages: [Message]) -> Int {
        messages.reduce(0) { total, message in
            switch message {
            case .ptyInput(let input): total + 32 + input.data.count
            case .fileChunk(let chunk): total + 48 + chunk.data.count
            case .commandRequest(let request): total + 48 + request.argv.reduce(0) { $0 + $1.utf8.count }
            default: total + 32
            }
        }
    }

    /// The writer reports what it wrote, so the estimate falls again.
    public func written(_ messages: [Message]) {
        pendingBytes.subtract(Self.estimate(messages), ordering: .relaxed)
    }

    public var queuedBytes: Int { pendingBytes.load(ordering: .relaxed) }

    @discardableResult
    public func send(_ messages: [Message]) -> Bool {
        let size = Self.estimate(messages)
        if pendingBytes.add(size, ordering: .relaxed).newValue > maxPendingBytes {
            pendingBytes.subtract(size, ordering: .relaxed)
            close(reason: "outbound queue over \(maxPendingBytes) bytes: the agent is not reading")
            return false
        }
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
