import DVICProtocol
public import Logging
public import NIOCore
public import NIOSSL
import NIOWebSocket
import WSClient

/// The connection to the server: the I/O shell around `AgentRuntime`'s session.
///
/// Connects to `ws(s)://host:port/v1/agent` (an `http(s)://` server URL is accepted too) with
/// WSClient and speaks frames (FrameEncoder/FrameDecoder) in binary WebSocket messages, several
/// whole frames per message. One task reads and decodes, one writes what the runtime has to send,
/// one ticks the session's clock (pings, handshake timeout). When the connection ends for any
/// reason it is tried again after a backoff with full jitter, capped at 30 s, reset once a
/// session was established.
public struct AgentConnection: Sendable {
    public let url: String
    public let identity: AgentIdentity
    public let runtime: AgentRuntime
    public let logger: Logger
    public let eventLoopGroup: any EventLoopGroup
    public let tlsConfiguration: TLSConfiguration?
    public var backoff: Backoff
    /// A WebSocket message is flushed when its frames pass this size (the protocol allows 4 MiB).
    public var messageFlushBytes = 512 << 10

    public init(
        serverURL: String, identity: AgentIdentity, runtime: AgentRuntime, logger: Logger,
        eventLoopGroup: any EventLoopGroup, tlsConfiguration: TLSConfiguration? = nil, backoff: Backoff = Backoff()
    ) throws(AgentError) {
        self.url = try ServerURL.agentWebSocketURL(serverURL)
        self.identity = identity
        self.runtime = runtime
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.tlsConfiguration = tlsConfiguration
        self.backoff = backoff
    }

    /// Connects, and reconnects, until cancelled.
    public func run() async {
        var backoff = self.backoff
        while !Task.isCancelled {
            let established = await connectOnce()
            if established { backoff.reset() }
            let delay = backoff.next()
            logger.debug("reconnecting", metadata: ["delay": "\(delay)", "attempt": "\(backoff.attempt)"])
            do { try await Task.sleep(for: delay) } catch { return }
        }
    }

    /// One connection, until it ends; returns whether a session was established.
    public func connectOnce() async -> Bool {
        let runtime = self.runtime
        let identity = self.identity
        let logger = self.logger
        let flushBytes = messageFlushBytes
        let limits = ProtocolLimits.default
        let wasEstablished = EstablishedFlag()
        do {
            try await WebSocketClient.connect(
                url: url,
                configuration: WebSocketClientConfiguration(maxFrameSize: limits.maxMessageLength),
                tlsConfiguration: tlsConfiguration,
                eventLoopGroup: eventLoopGroup,
                logger: logger
            ) { inbound, outbound, _ in
                let wakeups = await runtime.connectionOpened(identity: identity, now: WallClock.milliseconds())
                do {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            var decoder = FrameDecoder(limits: limits)
                            for try await message in inbound.messages(maxSize: limits.maxMessageLength) {
                                switch message {
                                case .text:
                                    await runtime.requestClose(code: AgentSessionCore.CloseCode.unsupportedData, reason: "text message")
                                    return
                                case .binary(let buffer):
                                    let messages: [Message]
                                    do throws(ProtocolError) {
                                        messages = try decoder.decode(message: buffer) { skipped in
                                            logger.debug("skipped a frame", metadata: ["error": "\(skipped)"])
                                        }
                                    } catch {
                                        await runtime.protocolError(error)
                                        return
                                    }
                                    for decoded in messages { await runtime.receive(decoded) }
                                    if await runtime.isEstablished { await wasEstablished.set() }
                                }
                            }
                        }
                        group.addTask {
                            var encoder: FrameEncoder?
                            for await _ in wakeups {
                                let next = await runtime.takeOutbound()
                                if encoder == nil, !next.messages.isEmpty {
                                    encoder = try FrameEncoder(
                                        limits: limits, compression: FrameEncoder.Compression(dictionaryID: next.dictionaryID))
                                }
                                var buffer = ByteBuffer()
                                for message in next.messages {
                                    try encoder!.encode(message, into: &buffer)
                                    if buffer.readableBytes >= flushBytes {
                                        try await outbound.write(.binary(buffer))
                                        buffer = ByteBuffer()
                                    }
                                }
                                if buffer.readableBytes > 0 { try await outbound.write(.binary(buffer)) }
                                if let close = next.close {
                                    try await outbound.close(WebSocketErrorCode(codeNumber: Int(close.code)), reason: close.reason)
                                    return
                                }
                            }
                        }
                        group.addTask {
                            while true {
                                try await Task.sleep(for: .seconds(1))
                                await runtime.connectionTick(now: WallClock.milliseconds())
                            }
                        }
                        _ = try await group.next()
                        group.cancelAll()
                    }
                } catch {
                    await runtime.connectionClosed()
                    throw error
                }
                await runtime.connectionClosed()
            }
        } catch {
            logger.info("connection to the server ended", metadata: ["url": "\(url)", "error": "\(error)"])
        }
        await runtime.connectionClosed()
        return await wasEstablished.value
    }
}

/// Whether a connection got as far as `welcome`, set from its reader task.
private actor EstablishedFlag {
    private(set) var value = false
    func set() { value = true }
}
