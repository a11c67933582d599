public import DVICProtocol

/// `dvic shell` without I/O: what to do with each key chunk, window size and stream
/// message. The runner performs the actions (send, write to the screen, detach, end).
public struct ShellCore: Sendable {
    /// Ctrl-], as in telnet: leaves the session running and detaches.
    public static let detachKey: UInt8 = 0x1D

    public enum Action: Sendable, Hashable {
        case send(Message)
        /// Bytes for the local screen.
        case output([UInt8])
        /// Leave, the session staying open on the node for a later `--join`.
        case detach(sessionID: String)
        /// The session is over: dvic exits with `code`, printing `note` if any.
        case finish(code: Int32, note: String?)
        /// Opening the session failed.
        case fail(CLIError)
    }

    public enum Phase: Sendable, Hashable {
        case attaching
        case attached(sessionID: String)
        case ended
    }

    public let nodeID: String
    public let nodeName: String
    public private(set) var phase: Phase = .attaching
    public private(set) var size: Terminal.Size

    public init(nodeID: String, nodeName: String, size: Terminal.Size) {
        self.nodeID = nodeID
        self.nodeName = nodeName
        self.size = size
    }

    /// The request that opens (or, with `join`, joins) a session.
    public func attachRequest(join: String?, argv: [String]) -> Message {
        .ptyAttach(PtyAttach(nodeID: nodeID, sessionID: join ?? "", rows: size.rows, cols: size.cols, argv: argv))
    }

    public var sessionID: String? {
        if case .attached(let id) = phase { return id }
        return nil
    }

    /// Keys typed locally.
    public mutating func typed(_ bytes: [UInt8]) -> [Action] {
        guard let sessionID else { return [] }
        if let index = bytes.firstIndex(of: Self.detachKey) {
            var actions: [Action] = []
            if index > 0 { actions.append(.send(.ptyInput(PtyInput(sessionID: sessionID, data: Array(bytes[..<index]))))) }
            phase = .ended
            actions.append(.detach(sessionID: sessionID))
            return actions
        }
        guard !bytes.isEmpty else { return [] }
        return [.send(.ptyInput(PtyInput(sessionID: sessionID, data: bytes)))]
    }

    /// The local window changed size.
    public mutating func resized(_ newSize: Terminal.Size) -> [Action] {
        size = newSize
        guard let sessionID else { return [] }
        return [.send(.ptyResize(PtyResize(sessionID: sessionID, rows: newSize.rows, cols: newSize.cols)))]
    }

    /// Local input ended (stdin closed): close the session as a viewer would.
    public mutating func inputEnded() -> [Action] {
        guard let sessionID else { return [] }
        phase = .ended
        return [.send(.ptyClose(PtyClose(sessionID: sessionID, exitCode: -1, reason: "input closed"))), .finish(code: 0, note: nil)]
    }

    /// A message from the server.
    public mutating func received(_ message: Message) -> [Action] {
        switch (phase, message) {
        case (.attaching, .ptyAttached(let attached)) where attached.nodeID == nodeID:
            phase = .attached(sessionID: attached.sessionID)
            var actions: [Action] = []
            if !attached.scrollback.isEmpty { actions.append(.output(attached.scrollback)) }
            // The size is sent at start too: a joined session may have another one.
            actions.append(.send(.ptyResize(PtyResize(sessionID: attached.sessionID, rows: size.rows, cols: size.cols))))
            return actions
        case (.attaching, .error(let error)):
            phase = .ended
            switch error.code {
            case "not_found": return [.fail(.notFound("no such session or node: \(error.message)"))]
            case "forbidden": return [.fail(.auth("terminals need the operator role: \(error.message)"))]
            case "unauthorized": return [.fail(.auth(error.message))]
            default: return [.fail(.commandFailed("cannot open a terminal on \(nodeName): \(error.message)"))]
            }
        case (.attached(let id), .ptyOutput(let output)) where output.sessionID == id:
            return [.output(output.data)]
        case (.attached(let id), .ptyClose(let close)) where close.sessionID == id:
            phase = .ended
            if close.exitCode >= 0 { return [.finish(code: Int32(min(close.exitCode, 255)), note: nil)] }
            return [.finish(code: CLIExitCode.commandFailed.rawValue, note: "session ended: \(close.reason.isEmpty ? "no exit code" : close.reason)")]
        case (.attached, .error(let error)) where error.fatal:
            phase = .ended
            return [.fail(.server("the server ended the stream: \(error.code): \(error.message)"))]
        default:
            return []
        }
    }
}
