import NIOCore
import NIOSSH

/// Runs one command on a session channel: sends the exec request, writes `stdin` (the password
/// line for `sudo -S`) and closes our side, passes every chunk of stdout and stderr to `output`,
/// and completes `exited` with the exit status once the channel has closed (so that all output
/// has been read by then). A channel that closes without a status completes it with nil.
final class SSHExecHandler: ChannelDuplexHandler {
    typealias InboundIn = SSHChannelData
    typealias OutboundIn = Never
    typealias OutboundOut = SSHChannelData

    private let command: String
    private let stdin: [UInt8]
    private let output: (ByteBuffer, InstallOutputScanner.Stream) -> Void
    private var exited: EventLoopPromise<Int?>?
    private var status: Int?

    init(command: String, stdin: [UInt8], exited: EventLoopPromise<Int?>, output: @escaping (ByteBuffer, InstallOutputScanner.Stream) -> Void) {
        self.command = command
        self.stdin = stdin
        self.exited = exited
        self.output = output
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Without half-closure our EOF on stdin would close the whole channel.
        context.channel.setOption(ChannelOptions.allowRemoteHalfClosure, value: true).whenFailure { _ in }
    }

    func channelActive(context: ChannelHandlerContext) {
        let exec = SSHChannelRequestEvent.ExecRequest(command: command, wantReply: true)
        context.triggerUserOutboundEvent(exec, promise: nil)
        if !stdin.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: stdin.count)
            buffer.writeBytes(stdin)
            context.write(wrapOutboundOut(SSHChannelData(type: .channel, data: .byteBuffer(buffer))), promise: nil)
        }
        context.flush()
        context.close(mode: .output, promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let data = unwrapInboundIn(data)
        guard case .byteBuffer(let bytes) = data.data else { return }
        switch data.type {
        case .channel: output(bytes, .stdout)
        case .stdErr: output(bytes, .stderr)
        default: break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let exit as SSHChannelRequestEvent.ExitStatus:
            status = exit.exitStatus
        case is SSHChannelRequestEvent.ExitSignal:
            status = status ?? 128
        case is ChannelFailureEvent:
            // The server refused the exec request.
            context.close(promise: nil)
        case ChannelEvent.inputClosed:
            break
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        exited?.succeed(status)
        exited = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        exited?.succeed(status)
        exited = nil
    }
}
