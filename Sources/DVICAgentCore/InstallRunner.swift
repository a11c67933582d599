public import DVICProtocol
import DVICInstall
public import Logging
public import NIOCore

/// Runs the SSH installs the server asks this node to do (`installRequest`), for a machine the
/// server cannot reach but this node can, and reports each step as `installProgress`.
///
/// The password is in the request and in the SSH session only: it is not logged, spooled or
/// written anywhere. At most `maxParallel` installs run at once; more are refused at once, so
/// that a burst of requests cannot exhaust a small node.
public actor InstallRunner {
    public nonisolated let maxParallel: Int
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let emit: @Sendable ([Message]) async -> Void
    private let requests: AsyncStream<InstallRequest>
    private let requestSink: AsyncStream<InstallRequest>.Continuation
    private var running = 0

    public init(maxParallel: Int = 4, logger: Logger, eventLoopGroup: any EventLoopGroup, emit: @escaping @Sendable ([Message]) async -> Void) {
        self.maxParallel = maxParallel
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.emit = emit
        (requests, requestSink) = AsyncStream.makeStream(of: InstallRequest.self)
    }

    public nonisolated func submit(_ request: InstallRequest) {
        requestSink.yield(request)
    }

    /// Owns every install's task until the agent stops.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await request in requests {
                guard running < maxParallel else {
                    await emit([.installProgress(InstallProgress(
                        jobID: request.jobID, step: "", message: "this node already runs \(maxParallel) installs; try another source node",
                        hostKey: "", failure: InstallFailure.Code.sourceUnavailable.name, finished: true))])
                    continue
                }
                running += 1
                group.addTask {
                    await self.install(request)
                    await self.finished()
                }
            }
        }
    }

    public nonisolated func stop() { requestSink.finish() }

    private func finished() { running -= 1 }

    private nonisolated func install(_ request: InstallRequest) async {
        let job = SSHInstallJob(
            host: request.host, port: Int(clamping: request.port), user: request.user, password: request.password,
            pinnedHostKey: request.hostKey.isEmpty ? nil : request.hostKey, command: request.command,
            timeout: .milliseconds(Int64(clamping: max(request.timeoutMs, 10_000))))
        logger.info("ssh install requested", metadata: ["job": "\(request.jobID)", "target": "\(job)"])
        let (events, sink) = AsyncStream.makeStream(of: InstallProgressEvent.self)
        let emit = self.emit
        async let forwarded: Void = {
            for await event in events {
                await emit([.installProgress(InstallProgress(
                    jobID: request.jobID, step: event.step, message: event.message, hostKey: event.hostKey, failure: "", finished: false))])
            }
        }()
        var failure: InstallFailure?
        var hostKey = ""
        do {
            hostKey = try await SSHInstaller(eventLoopGroup: eventLoopGroup, logger: logger).run(job) { sink.yield($0) }.hostKey
        } catch {
            failure = error
        }
        sink.finish()
        await forwarded
        await emit([.installProgress(InstallProgress(
            jobID: request.jobID, step: "", message: failure?.message ?? "the install script finished", hostKey: hostKey,
            failure: failure?.code.name ?? "", finished: true))])
    }
}
