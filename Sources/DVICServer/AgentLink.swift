public import DVICProtocol
public import DVICServerCore
import Synchronization

/// One agent connection's outbound side, as the actors see it: `send` hands a batch to
/// the connection (`deliver`, which writes it on the connection's event loop) without
/// waiting. What is handed over but not yet written is bounded in bytes (estimated
/// before encoding); a link whose agent stops reading is closed instead of growing
/// without end.
public final class AgentLink: NodeLink {
    public let sessionID: String
    public let nodeID: String
    private let deliver: @Sendable ([Message]) -> Void
    private let reason = Mutex<String?>(nil)
    /// `reason != nil`, read without the lock on every send.
    private let isClosed = Atomic<Bool>(false)
    private let pendingBytes = Atomic<Int>(0)
    private let maxPendingBytes: Int
    private let endContinuation: AsyncStream<Never>.Continuation
    /// Finishes when the link is closed, whoever closed it.
    public let ended: AsyncStream<Never>

    public init(nodeID: String, sessionID: String, maxPendingBytes: Int = 8 << 20, deliver: @escaping @Sendable ([Message]) -> Void) {
        self.nodeID = nodeID
        self.sessionID = sessionID
        self.maxPendingBytes = maxPendingBytes
        self.deliver = deliver
        (ended, endContinuation) = AsyncStream<Never>.makeStream()
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

    /// The connection reports what it wrote, so the estimate falls again.
    public func written(_ messages: [Message]) {
        pendingBytes.subtract(Self.estimate(messages), ordering: .relaxed)
    }

    public var queuedBytes: Int { pendingBytes.load(ordering: .relaxed) }

    @discardableResult
    public func send(_ messages: [Message]) -> Bool {
        guard !isClosed.load(ordering: .acquiring) else { return false }
        let size = Self.estimate(messages)
        if pendingBytes.add(size, ordering: .relaxed).newValue > maxPendingBytes {
            pendingBytes.subtract(size, ordering: .relaxed)
            close(reason: "outbound queue over \(maxPendingBytes) bytes: the agent is not reading")
            return false
        }
        deliver(messages)
        return true
    }

    public func close(reason: String) {
        let first = self.reason.withLock { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        if first {
            isClosed.store(true, ordering: .releasing)
            endContinuation.finish()
        }
    }

    /// Why the link was closed, if it was.
    public var closeReason: String? { reason.withLock { $0 } }
}
