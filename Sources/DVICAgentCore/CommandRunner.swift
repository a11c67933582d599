#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import DVICProtocol
public import Logging
public import NIOCore
import NIOPosix
import Synchronization

/// Runs the server's commands: the I/O shell around `CommandRunnerCore`.
///
/// A command runs as `/bin/sh -c LINE` or as its argv, posix_spawned into a new process group
/// with stdin from /dev/null. Its stdout and stderr are streamed as `commandOutput` chunks (up to
/// an output cap), in order per stream, and a `commandExit` follows them. A timeout or a cancel
/// sends SIGTERM to the whole group, then SIGKILL after `killGrace`. Once the command's own
/// process has exited, output is still read for `drainGrace`, in case children it left behind
/// hold the pipes, and then the command is reported done.
///
/// `run()` owns every command's task; `submit` and `cancel` may be called from anywhere.
public actor CommandRunner {
    public struct Configuration: Sendable {
        public var maxParallel: Int
        /// The output cap when a request sets none (0), and the most a request may ask for.
        public var defaultMaxOutputBytes: Int
        public var hardMaxOutputBytes: Int
        public var killGrace: Duration
        public var drainGrace: Duration

        public init(
            maxParallel: Int = 4, defaultMaxOutputBytes: Int = 1 << 20, hardMaxOutputBytes: Int = 16 << 20,
            killGrace: Duration = .seconds(5), drainGrace: Duration = .seconds(1)
        ) {
            self.maxParallel = maxParallel
            self.defaultMaxOutputBytes = defaultMaxOutputBytes
            self.hardMaxOutputBytes = hardMaxOutputBytes
            self.killGrace = killGrace
            self.drainGrace = drainGrace
        }
    }

    private enum Event: Sendable {
        case submit(CommandRequest)
        case cancel(String)
        case finished(String)
        case setMaxParallel(Int)
    }

    public nonisolated let configuration: Configuration
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let emit: @Sendable ([Message]) async -> Void
    private var core: CommandRunnerCore
    private let events: AsyncStream<Event>
    private let eventSink: AsyncStream<Event>.Continuation
    private var cancelSignals: [String: AsyncStream<Void>.Continuation] = [:]

    /// - Parameter emit: receives `commandOutput` and `commandExit` messages, in order.
    public init(
        configuration: Configuration = Configuration(), logger: Logger, eventLoopGroup: any EventLoopGroup,
        emit: @escaping @Sendable ([Message]) async -> Void
    ) {
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.emit = emit
        self.core = CommandRunnerCore(maxParallel: configuration.maxParallel)
        (self.events, self.eventSink) = AsyncStream.makeStream(of: Event.self)
    }

    public nonisolated func submit(_ request: CommandRequest) {
        eventSink.yield(.submit(request))
    }

    public nonisolated func cancel(_ commandID: String) {
        eventSink.yield(.cancel(commandID))
    }

    public nonisolated func setMaxParallel(_ value: Int) {
        eventSink.yield(.setMaxParallel(value))
    }

    /// Runs commands until cancelled; running commands are then killed and reaped.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await event in events {
                let directives: [CommandRunnerCore.Directive]
                switch event {
                case .submit(let request): directives = core.submit(request)
                case .cancel(let id): directives = core.cancel(id)
                case .finished(let id):
                    cancelSignals.removeValue(forKey: id)?.finish()
                    directives = core.finished(id)
                case .setMaxParallel(let value): directives = core.setMaxParallel(value)
                }
                for directive in directives {
                    switch directive {
                    case .start(let request):
                        let (signal, trigger) = AsyncStream.makeStream(of: Void.self)
                        cancelSignals[request.commandID] = trigger
                        let context = ExecutionContext(
                            configuration: configuration, logger: logger, eventLoopGroup: eventLoopGroup, emit: emit)
                        let sink = eventSink
                        group.addTask {
                            await context.execute(request, cancel: signal)
                            sink.yield(.finished(request.commandID))
                        }
                    case .kill(let id):
                        cancelSignals[id]?.yield()
                    case .finishUnstarted(let id, let reason, let message):
                        let emit = self.emit
                        group.addTask {
                            await emit([
                                .commandExit(
                                    CommandExit(commandID: id, reason: reason, exitCode: -1, signal: 0, durationMs: 0, message: message))
                            ])
                        }
                    }
                }
            }
        }
    }
}

/// Everything one command's task needs, without the actor.
private struct ExecutionContext: Sendable {
    let configuration: CommandRunner.Configuration
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup
    let emit: @Sendable ([Message]) async -> Void

    private enum Step: Sendable {
        case readerDone
        case terminated(ChildProcess.Termination, ExitReason?)
        case drainExpired
    }

    private enum Control: Sendable, Equatable {
        case exited(ChildProcess.Termination)
        case timeout
        case cancel
        case escalate
        case idle
    }

    func execute(_ request: CommandRequest, cancel: AsyncStream<Void>) async {
        let started = WallClock.monotonicNanoseconds()
        func elapsed() -> UInt64 { (WallClock.monotonicNanoseconds() - started) / 1_000_000 }
        let argv: [String]
        switch request.mode {
        case .shell: argv = ["/bin/sh", "-c", request.argv.first ?? ""]
        case .argv: argv = request.argv
        }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(argv)
        } catch {
            await emit([
                .commandExit(
                    CommandExit(
                        commandID: request.commandID, reason: .failedToStart, exitCode: -1, signal: 0, durationMs: elapsed(),
                        message: error.message))
            ])
            return
        }
        logger.debug("command started", metadata: ["command": "\(request.commandID)", "pid": "\(child.pid)"])
        let cap = request.maxOutputBytes == 0
            ? configuration.defaultMaxOutputBytes : Int(min(request.maxOutputBytes, UInt64(configuration.hardMaxOutputBytes)))
        let budget = OutputBudget(limit: cap)
        let pid = child.pid
        var outcome: (ChildProcess.Termination, ExitReason?) = (.exited(-1), nil)
        await withTaskCancellationHandler {
            await withTaskGroup(of: Step.self) { group in
                group.addTask { await read(child.stdout, as: .stdout, request.commandID, budget); return .readerDone }
                group.addTask { await read(child.stderr, as: .stderr, request.commandID, budget); return .readerDone }
                group.addTask { await control(pid: pid, timeoutMs: request.timeoutMs, cancel: cancel) }
                var readersLeft = 2
                var terminated = false
                while let step = await group.next() {
                    switch step {
                    case .readerDone:
                        readersLeft -= 1
                    case .terminated(let termination, let reason):
                        outcome = (termination, reason)
                        terminated = true
                        if readersLeft > 0 {
                            let grace = configuration.drainGrace
                            group.addTask {
                                try? await Task.sleep(for: grace)
                                return .drainExpired
                            }
                        }
                    case .drainExpired:
                        group.cancelAll()
                    }
                    if terminated && readersLeft == 0 {
                        group.cancelAll()
                        break
                    }
                }
            }
        } onCancel: {
            // The agent is stopping: nothing may outlive it.
            ChildProcess.signalGroup(pid, SIGKILL)
        }
        let (termination, initiated) = outcome
        var exit = CommandExit(
            commandID: request.commandID, reason: .exited, exitCode: -1, signal: 0, durationMs: elapsed(), message: "")
        switch termination {
        case .exited(let code):
            exit.exitCode = Int64(code)
        case .signaled(let signal):
            exit.reason = .signaled
            exit.signal = UInt64(signal)
        }
        if let initiated {
            exit.reason = initiated
            if initiated == .timedOut { exit.message = "timed out after \(request.timeoutMs) ms" }
            if initiated == .cancelled { exit.message = "cancelled" }
        }
        if budget.truncated {
            exit.message += (exit.message.isEmpty ? "" : "; ") + "output truncated at \(cap) bytes"
        }
        await emit([.commandExit(exit)])
    }

    /// Waits for the process, killing its group on timeout or cancel.
    private func control(pid: pid_t, timeoutMs: UInt64, cancel: AsyncStream<Void>) async -> Step {
        let grace = configuration.killGrace
        return await withTaskGroup(of: Control.self) { group in
            group.addTask { .exited(await ChildProcess.wait(for: pid)) }
            if timeoutMs > 0 {
                group.addTask {
                    do {
                        try await Task.sleep(for: .milliseconds(Int64(clamping: timeoutMs)))
                        return .timeout
                    } catch {
                        return .idle
                    }
                }
            }
            group.addTask {
                for await _ in cancel { return .cancel }
                return .idle
            }
            var reason: ExitReason?
            while let event = await group.next() {
                switch event {
                case .exited(let termination):
                    group.cancelAll()
                    return .terminated(termination, reason)
                case .timeout, .cancel:
                    guard reason == nil else { continue }
                    reason = event == .timeout ? .timedOut : .cancelled
                    ChildProcess.signalGroup(pid, SIGTERM)
                    group.addTask {
                        try? await Task.sleep(for: grace)
                        return .escalate
                    }
                case .escalate:
                    ChildProcess.signalGroup(pid, SIGKILL)
                case .idle:
                    continue
                }
            }
            return .terminated(.exited(-1), reason)
        }
    }

    /// Streams one pipe as `commandOutput` chunks within the shared output budget.
    private func read(_ descriptor: CInt, as stream: DVICProtocol.OutputStream, _ commandID: String, _ budget: OutputBudget) async {
        let channel: NIOAsyncChannel<ByteBuffer, Never>
        do {
            channel = try await NIOPipeBootstrap(group: eventLoopGroup).takingOwnershipOfDescriptor(input: descriptor) {
                channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            closeDescriptor(descriptor)
            logger.warning("cannot read a command's output", metadata: ["error": "\(error)"])
            return
        }
        do {
            try await channel.executeThenClose { inbound, _ in
                for try await buffer in inbound {
                    let allowed = budget.take(buffer.readableBytes)
                    guard allowed > 0 else { continue }  // keep draining so the child never blocks
                    let bytes = buffer.getBytes(at: buffer.readerIndex, length: allowed) ?? []
                    await emit([.commandOutput(CommandOutput(commandID: commandID, stream: stream, data: bytes))])
                }
            }
        } catch {
            // EOF, cancellation after the drain grace, or a read error: the stream is over.
        }
    }
}
