public import DVICProtocol

/// One connection's protocol state, as a value type with no I/O (as SWIM's `Instance`): it is fed
/// each message from the server and each tick of a clock, and answers with directives for the
/// runtime (what to send, what to run, what the server acknowledged).
///
/// - `challenge` → `hello` signed with the node's key (Spec/protocol.md 6);
/// - `welcome` → `established` (apply its configuration, resume the spool from its points);
/// - `logAck` → `acknowledge` with the stream's key;
/// - commands, terminals and `configUpdate` → the matching directives;
/// - `ping` → `pong`; the agent pings every `heartbeatSeconds` and gives up on a silent server.
///
/// It also binds stream keys to this connection's small stream ids.
public struct AgentSessionCore: Sendable {
    public enum Phase: Sendable, Hashable {
        case awaitingChallenge
        case awaitingWelcome
        case established
        case closed
    }

    public enum Directive: Sendable {
        case send([Message])
        /// The session is open: apply `welcome.config`, resume log delivery from `welcome.resume`
        /// and send the node's current state.
        case established(Welcome)
        case applyConfig([KeyValue])
        case acknowledge(key: String, seq: UInt64)
        case runCommand(CommandRequest)
        case cancelCommand(String)
        case openPty(PtyOpen)
        case ptyInput(PtyInput)
        case resizePty(PtyResize)
        case closePty(PtyClose)
        /// Install the agent on another machine over SSH (Spec/install.md).
        case runInstall(InstallRequest)
        /// Close the WebSocket with this status code and reason.
        case close(code: UInt16, reason: String)
        /// The server offers an agent build (`SelfUpdater` takes it from here).
        case update(UpdateOffer)
    }

    public struct Settings: Sendable, Hashable {
        public var handshakeTimeoutMilliseconds: Int64
        /// The ping interval until `welcome` says otherwise.
        public var defaultHeartbeatMilliseconds: Int64
        /// Heartbeats without a pong after which the server counts as gone.
        public var missedHeartbeats: Int64

        public init(handshakeTimeoutMilliseconds: Int64 = 30_000, defaultHeartbeatMilliseconds: Int64 = 15_000, missedHeartbeats: Int64 = 3) {
            self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
            self.defaultHeartbeatMilliseconds = defaultHeartbeatMilliseconds
            self.missedHeartbeats = missedHeartbeats
        }
    }

    /// WebSocket close codes (RFC 6455) used here.
    public enum CloseCode {
        public static let normal: UInt16 = 1000
        public static let protocolError: UInt16 = 1002
        public static let unsupportedData: UInt16 = 1003
        public static let policyViolation: UInt16 = 1008
    }

    public let identity: AgentIdentity
    public let agentVersion: String
    /// What `hello` announces: per-frame deflate and the preset dictionaries this agent knows.
    public let capabilities: [String]
    public let settings: Settings
    public private(set) var phase: Phase = .awaitingChallenge
    public private(set) var sessionID: String?
    public private(set) var heartbeatMilliseconds: Int64
    /// The preset dictionary to deflate with: 1 when the server announced `zdict:1`, else 0.
    public private(set) var dictionaryID: UInt8 = 0
    private let connectedAt: Int64
    private var lastPingSentAt: Int64 = 0
    private var pendingPing: (nonce: UInt64, sentAt: Int64)?
    private var nextNonce: UInt64 = 1
    private var streamIDs: [String: UInt32] = [:]
    private var keysByID: [UInt32: String] = [:]
    private var freeIDs: [UInt32] = []
    private var nextStreamID: UInt32 = 0

    public init(
        identity: AgentIdentity, agentVersion: String = AgentVersion.current,
        capabilities: [String] = ["deflate", "ssh-install"] + PresetDictionary.knownIDs.sorted().map(PresetDictionary.capability),
        settings: Settings = Settings(), now: Int64
    ) {
        self.identity = identity
        self.agentVersion = agentVersion
        self.capabilities = capabilities
        self.settings = settings
        self.heartbeatMilliseconds = settings.defaultHeartbeatMilliseconds
        self.connectedAt = now
    }

    public var isEstablished: Bool { phase == .established }

    public mutating func receive(_ message: Message, now: Int64) -> [Directive] {
        guard phase != .closed else { return [] }
        if case .error(let error) = message {
            guard error.fatal else { return [] }
            return close(code: CloseCode.normal, reason: "server error \(error.code): \(error.message)")
        }
        switch phase {
        case .awaitingChallenge:
            guard case .challenge(let challenge) = message else {
                return violation("expected challenge, got \(message.type)")
            }
            guard challenge.versions.contains(UInt64(FrameFlags.currentVersion)) else {
                return close(code: CloseCode.protocolError, reason: "unsupported_version", error: "unsupported_version")
            }
            let signature: [UInt8]
            do {
                signature = try identity.signHello(nonce: challenge.nonce)
            } catch {
                return close(code: CloseCode.normal, reason: error.message)
            }
            for id in PresetDictionary.knownIDs.sorted(by: >) where challenge.capabilities.contains(PresetDictionary.capability(id: id)) {
                dictionaryID = id
                break
            }
            phase = .awaitingWelcome
            let hello = Hello(
                version: UInt64(FrameFlags.currentVersion), nodeID: identity.nodeID, agentVersion: agentVersion,
                capabilities: capabilities, signature: signature)
            return [.send([.hello(hello)])]
        case .awaitingWelcome:
            guard case .welcome(let welcome) = message else {
                return violation("expected welcome, got \(message.type)")
            }
            phase = .established
            sessionID = welcome.sessionID
            if welcome.heartbeatSeconds > 0 {
                heartbeatMilliseconds = Int64(min(welcome.heartbeatSeconds, 3600)) * 1000
            }
            lastPingSentAt = now
            return [.established(welcome)]
        case .established:
            return receiveEstablished(message, now: now)
        case .closed:
            return []
        }
    }

    private mutating func receiveEstablished(_ message: Message, now: Int64) -> [Directive] {
        switch message {
        case .logAck(let ack):
            guard let key = keysByID[ack.streamID] else { return [] }
            return [.acknowledge(key: key, seq: ack.seq)]
        case .ping(let ping):
            return [.send([.pong(Pong(nonce: ping.nonce))])]
        case .pong(let pong):
            if let pending = pendingPing, pending.nonce == pong.nonce { pendingPing = nil }
            return []
        case .commandRequest(let request):
            return [.runCommand(request)]
        case .commandCancel(let cancel):
            return [.cancelCommand(cancel.commandID)]
        case .ptyOpen(let open):
            return [.openPty(open)]
        case .ptyInput(let input):
            return [.ptyInput(input)]
        case .ptyResize(let resize):
            return [.resizePty(resize)]
        case .ptyClose(let close):
            return [.closePty(close)]
        case .configUpdate(let update):
            return [.applyConfig(update.config)]
        case .installRequest(let request):
            return [.runInstall(request)]
        case .updateOffer(let offer):
            return [.update(offer)]
        default:
            // Messages for other peers, or new optional ones: nothing to do.
            return []
        }
    }

    /// Handshake timeout, pings, and the pong deadline.
    public mutating func tick(now: Int64) -> [Directive] {
        switch phase {
        case .awaitingChallenge, .awaitingWelcome:
            if now - connectedAt > settings.handshakeTimeoutMilliseconds {
                return close(code: CloseCode.policyViolation, reason: "handshake timed out")
            }
            return []
        case .established:
            if let pending = pendingPing {
                if now - pending.sentAt > heartbeatMilliseconds * settings.missedHeartbeats {
                    return close(code: CloseCode.normal, reason: "no pong from the server")
                }
                return []
            }
            guard now - lastPingSentAt >= heartbeatMilliseconds else { return [] }
            let nonce = nextNonce
            nextNonce += 1
            pendingPing = (nonce, now)
            lastPingSentAt = now
            return [.send([.ping(Ping(nonce: nonce))])]
        case .closed:
            return []
        }
    }

    /// The stream id of `key` on this connection; `isNew` when a `logStreamOpen` must go first.
    public mutating func streamID(for key: String) -> (id: UInt32, isNew: Bool) {
        if let id = streamIDs[key] { return (id, false) }
        let id: UInt32
        if let free = freeIDs.popLast() {
            id = free
        } else {
            id = nextStreamID
            nextStreamID += 1
        }
        streamIDs[key] = id
        keysByID[id] = key
        return (id, true)
    }

    public func key(forStreamID id: UInt32) -> String? {
        keysByID[id]
    }

    public func isOpen(streamKey key: String) -> Bool {
        streamIDs[key] != nil
    }

    /// Unbinds a closed stream; returns its id for `logStreamClose` (nil when it was never opened
    /// on this connection). The id may be reused afterwards.
    public mutating func closeStream(key: String) -> UInt32? {
        guard let id = streamIDs.removeValue(forKey: key) else { return nil }
        keysByID[id] = nil
        freeIDs.append(id)
        return id
    }

    private mutating func violation(_ reason: String) -> [Directive] {
        close(code: CloseCode.protocolError, reason: reason)
    }

    private mutating func close(code: UInt16, reason: String, error: String? = nil) -> [Directive] {
        phase = .closed
        var directives: [Directive] = []
        if let error {
            directives.append(.send([.error(ErrorMessage(code: error, fatal: true, message: reason))]))
        }
        directives.append(.close(code: code, reason: reason))
        return directives
    }
}
