import DVICProtocol
public import Logging
public import NIOCore
import NIOWebSocket
import NIOPosix
import WSClient

/// The trial run of a new build (`dvic-agent --update-trial SECONDS <the agent's flags>`): the
/// updating agent starts the downloaded build this way before it swaps anything. The trial
/// loads the same configuration and identity, connects, and completes the handshake (challenge,
/// hello, welcome); then it closes and exits 0. Anything else, within the time, exits non-zero,
/// and the old build keeps running.
///
/// Its `hello` announces no agent version, so that the server keeps showing the node's running
/// version during the trial (the registry ignores an empty one).
public enum UpdateTrial {
    public static let flag = "--update-trial"

    /// Whether the handshake completed within `timeout`.
    public static func run(configuration: AgentConfiguration, timeout: Duration, logger: Logger) async -> Bool {
        await run(configuration: configuration, timeout: timeout, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
    }

    public static func run(configuration: AgentConfiguration, timeout: Duration, eventLoopGroup: any EventLoopGroup, logger: Logger) async -> Bool {
        guard let server = configuration.serverURL else {
            logger.error("update trial: no server configured")
            return false
        }
        let identity: AgentIdentity
        let url: String
        do {
            guard let loaded = try AgentIdentity.load(stateDirectory: configuration.stateDirectory) else {
                logger.error("update trial: the node is not enrolled")
                return false
            }
            identity = loaded
            url = try ServerURL.agentWebSocketURL(server)
        } catch {
            logger.error("update trial: \(error)")
            return false
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await handshake(url: url, identity: identity, eventLoopGroup: eventLoopGroup, logger: logger) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    static func handshake(url: String, identity: AgentIdentity, eventLoopGroup: any EventLoopGroup, logger: Logger) async -> Bool {
        let limits = ProtocolLimits.default
        let reached = Flag()
        do {
            try await WebSocketClient.connect(
                url: url, configuration: WebSocketClientConfiguration(maxFrameSize: limits.maxMessageLength),
                tlsConfiguration: nil, eventLoopGroup: eventLoopGroup, logger: logger
            ) { inbound, outbound, _ in
                var session = AgentSessionCore(identity: identity, agentVersion: "", now: WallClock.milliseconds())
                var decoder = FrameDecoder(limits: limits)
                for try await message in inbound.messages(maxSize: limits.maxMessageLength) {
                    guard case .binary(let buffer) = message else { return }
                    let decoded = try decoder.decode(message: buffer) { _ in }
                    for incoming in decoded {
                        for directive in session.receive(incoming, now: WallClock.milliseconds()) {
                            switch directive {
                            case .send(let messages):
                                var encoder = try FrameEncoder(limits: limits, compression: FrameEncoder.Compression(dictionaryID: session.dictionaryID))
                                var out = ByteBuffer()
                                for outgoing in messages { try encoder.encode(outgoing, into: &out) }
                                try await outbound.write(.binary(out))
                            case .established:
                                await reached.set()
                                try await outbound.close(.normalClosure, reason: "update trial done")
                                return
                            case .close(_, let reason):
                                logger.error("update trial: the server closed the handshake: \(reason)")
                                return
                            default:
                                continue
                            }
                        }
                    }
                }
            }
        } catch {
            logger.error("update trial: \(error)")
        }
        return await reached.value
    }

    private actor Flag {
        private(set) var value = false
        func set() { value = true }
    }
}
