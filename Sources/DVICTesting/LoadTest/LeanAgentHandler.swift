import DVICProtocol
import NIOCore
import NIOWebSocket

/// The WebSocket end of a `LeanAgent`, on its channel's event loop: the handshake
/// (challenge → signed hello → welcome), then every message handed to the agent as it
/// is read. WebSocket pings are answered here; a close frame is echoed and ends the
/// channel.
final class LeanAgentHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: every member is touched on the channel's event loop only.
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase {
        case awaitingChallenge
        case awaitingWelcome
        case open
    }

    /// Weak: the agent holds the channel, which holds this handler.
    private weak var agent: LeanAgent?
    private let welcome: EventLoopPromise<Welcome>
    private var settled = false
    private var phase = Phase.awaitingChallenge
    private var decoder = FrameDecoder()
    /// A message split over continuation frames, until its last frame.
    private var partial: ByteBuffer?
    /// The close frame's code and reason, or the error that ended the channel.
    private(set) var closeReason: String?

    init(agent: LeanAgent, welcome: EventLoopPromise<Welcome>) {
        self.agent = agent
        self.welcome = welcome
    }

    /// Completes the handshake's promise once; later outcomes are ignored.
    func settle(_ result: Result<Welcome, any Error>) {
        guard !settled else { return }
        settled = true
        welcome.completeWith(result)
    }

    /// A masked binary frame, as a client must send.
    static func frame(_ payload: ByteBuffer) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: payload)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .continuation:
            var payload = frame.unmaskedData
            if var buffered = partial {
                buffered.writeBuffer(&payload)
                partial = buffered
            } else {
                partial = payload
            }
            guard frame.fin, let message = partial else { return }
            partial = nil
            handle(message, context: context)
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode().map { "\($0)" } ?? "no code"
            let reason = data.readString(length: data.readableBytes) ?? ""
            closeReason = closeReason ?? "\(code): \(reason)"
            var echo = context.channel.allocator.buffer(capacity: 2)
            echo.write(webSocketErrorCode: .normalClosure)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: echo)))
                .whenComplete { _ in context.close(promise: nil) }
        default:
            break
        }
    }

    private func handle(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        let messages: [Message]
        do {
            messages = try decoder.decode(message: buffer)
        } catch {
            fail("undecodable message: \(error)", context: context)
            return
        }
        for message in messages {
            switch phase {
            case .awaitingChallenge:
                guard case .challenge(let challenge) = message else { return fail("no challenge", context: context) }
                do {
                    guard let agent else { return fail("the agent is gone", context: context) }
                    let hello = try agent.hello(nonce: challenge.nonce)
                    context.writeAndFlush(wrapOutboundOut(Self.frame(hello)), promise: nil)
                    phase = .awaitingWelcome
                } catch {
                    fail("cannot sign the hello: \(error)", context: context)
                }
            case .awaitingWelcome:
                guard case .welcome(let answer) = message else {
                    if case .error(let error) = message { return fail("refused: \(error.code): \(error.message)", context: context) }
                    return fail("no welcome", context: context)
                }
                phase = .open
                settle(.success(answer))
            case .open:
                agent?.received(message)
            }
        }
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        closeReason = closeReason ?? reason
        settle(.failure(HarnessError(reason)))
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("\(error)", context: context)
    }
}
