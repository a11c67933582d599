import NIOCore
import NIOSSH

/// Sits behind `NIOSSHHandler` on the connection: completes `authenticated` when the server
/// accepts the login, and fails it with the first error or when the connection closes first.
/// (A refused host key surfaces only here, as `errorCaught` on the parent channel.)
final class SSHConnectionWatcher: ChannelInboundHandler {
    typealias InboundIn = Any

    private let attempt: SSHAttempt
    private var authenticated: EventLoopPromise<Void>?

    init(attempt: SSHAttempt, authenticated: EventLoopPromise<Void>) {
        self.attempt = attempt
        self.authenticated = authenticated
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is UserAuthSuccessEvent {
            authenticated?.succeed(())
            authenticated = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        attempt.update { if $0.firstError == nil { $0.firstError = error } }
        authenticated?.fail(error)
        authenticated = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        authenticated?.fail(ChannelError.eof)
        authenticated = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        authenticated?.fail(ChannelError.eof)
        authenticated = nil
    }
}
