#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CPty
public import DVICProtocol
public import Logging
public import NIOCore
import NIOPosix

/// Terminal sessions on pseudo-terminals (forkpty), several at once.
///
/// A session runs the requested argv, or the agent user's login shell, as the leader of a new
/// session whose controlling terminal is the PTY. Keystrokes are written to the master side, its
/// output is streamed as `ptyOutput`, a resize sets the window size (TIOCSWINSZ, which signals
/// SIGWINCH). When the shell exits the session ends with `ptyClose` carrying its exit code; a
/// close from the server hangs up the session (SIGHUP to its process group, SIGKILL after
/// `closeGrace`) and ends the same way.
public actor PtyManager {
    public struct Configuration: Sendable {
        public var maxSessions: Int
        public var closeGrace: Duration
        /// How long output is still read after the shell exited, for what its children print.
        public var drainGrace: Duration

        public init(maxSessions: Int = 8, closeGrace: Duration = .seconds(2), drainGrace: Duration = .milliseconds(500)) {
            self.maxSessions = maxSessions
            self.closeGrace = closeGrace
            self.drainGrace = drainGrace
        }
    }

    fileprivate enum Command: Sendable {
        case data([UInt8])
        case resize(rows: UInt16, cols: UInt16)
        case close
    }

    private enum Event: Sendable {
        case open(PtyOpen)
        case command(String, Command)
        case ended(String)
    }

    public nonisolated let configuration: Configuration
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let emit: @Sendable ([Message]) async -> Void
    private let events: AsyncStream<Event>
    private let eventSink: AsyncStream<Event>.Continuation
    private var sessions: [String: AsyncStream<Command>.Continuation] = [:]

    public init(
        configuration: Configuration = Configuration(), logger: Logger, eventLoopGroup: any EventLoopGroup,
        emit: @escaping @Sendable ([Message]) async -> Void
    ) {
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.emit = emit
        (self.events, self.eventSink) = AsyncStream.makeStream(of: Event.self)
    }

    public nonisolated func open(_ request: PtyOpen) { eventSink.yield(.open(request)) }

    public nonisolated func input(_ input: PtyInput) { eventSink.yield(.command(input.sessionID, .data(input.data))) }

    public nonisolated func resize(_ resize: PtyResize) {
        eventSink.yield(
            .command(resize.sessionID, .resize(rows: UInt16(clamping: resize.rows), cols: UInt16(clamping: resize.cols))))
    }

    public nonisolated func close(_ close: PtyClose) { eventSink.yield(.command(close.sessionID, .close)) }

    /// The sessions open now.
    public var sessionIDs: [String] { sessions.keys.sorted() }

    /// Runs sessions until cancelled; open sessions are then killed.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await event in events {
                switch event {
                case .open(let request):
                    guard sessions[request.sessionID] == nil else { continue }
                    guard sessions.count < configuration.maxSessions else {
                        let emit = self.emit
                        group.addTask {
                            await emit([.ptyClose(PtyClose(sessionID: request.sessionID, exitCode: -1, reason: "too many terminal sessions"))])
                        }
                        continue
                    }
                    let (commands, sink) = AsyncStream.makeStream(of: Command.self)
                    sessions[request.sessionID] = sink
                    let session = PtySession(
                        request: request, configuration: configuration, logger: logger, eventLoopGroup: eventLoopGroup,
                        emit: emit)
                    let events = eventSink
                    group.addTask {
                        await session.run(commands: commands)
                        events.yield(.ended(request.sessionID))
                    }
                case .command(let id, let command):
                    sessions[id]?.yield(command)
                case .ended(let id):
                    sessions.removeValue(forKey: id)?.finish()
                }
            }
        }
    }
}

/// One terminal session's task.
private struct PtySession: Sendable {
    let request: PtyOpen
    let configuration: PtyManager.Configuration
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup
    let emit: @Sendable ([Message]) async -> Void

    private enum Step: Sendable {
        case readerDone
        case exited(ChildProcess.Termination)
        case hangUp
        case escalate
        case drainExpired
        case idle
    }

    func run(commands: AsyncStream<PtyManager.Command>) async {
        let id = request.sessionID
        let (path, argv) = Self.program(for: request.argv)
        guard let path else {
            await emit([.ptyClose(PtyClose(sessionID: id, exitCode: -1, reason: "no such program: \(request.argv.first ?? "")"))])
            return
        }
        let environment = Self.environment(overrides: request.env)
        let home = environment.first { $0.hasPrefix("HOME=") }.map { String($0.dropFirst(5)) } ?? "/"
        var master: CInt = -1
        let rows = UInt16(clamping: request.rows == 0 ? 24 : request.rows)
        let cols = UInt16(clamping: request.cols == 0 ? 80 : request.cols)
        let pid = withCStrings(argv) { cArgv in
            withCStrings(environment) { cEnv in
                dvic_pty_spawn(path, cArgv, cEnv, home, rows, cols, &master)
            }
        }
        guard pid > 0 else {
            await emit([.ptyClose(PtyClose(sessionID: id, exitCode: -1, reason: "cannot open a terminal: \(String(cString: strerror(errno)))"))])
            return
        }
        // NIO owns `master`; this duplicate carries the window-size ioctls.
        let control = fcntl(master, F_DUPFD_CLOEXEC, 0)
        defer { if control >= 0 { closeDescriptor(control) } }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await NIOPipeBootstrap(group: eventLoopGroup).takingOwnershipOfDescriptor(inputOutput: master) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            closeDescriptor(master)
            ChildProcess.signalGroup(pid, SIGKILL)
            _ = await ChildProcess.wait(for: pid)
            await emit([.ptyClose(PtyClose(sessionID: id, exitCode: -1, reason: "cannot read the terminal: \(error)"))])
            return
        }
        logger.debug("terminal opened", metadata: ["session": "\(id)", "pid": "\(pid)"])
        var termination: ChildProcess.Termination = .exited(-1)
        var closedByServer = false
        await withTaskCancellationHandler {
            try? await channel.executeThenClose { inbound, outbound in
                await withTaskGroup(of: Step.self) { group in
                    group.addTask {
                        do {
                            for try await buffer in inbound {
                                await emit([.ptyOutput(PtyOutput(sessionID: id, data: Array(buffer.readableBytesView)))])
                            }
                        } catch {
                            // EIO: every holder of the terminal's other side is gone.
                        }
                        return .readerDone
                    }
                    group.addTask { .exited(await ChildProcess.wait(for: pid)) }
                    group.addTask {
                        for await command in commands {
                            switch command {
                            case .data(let bytes):
                                try? await outbound.write(ByteBuffer(bytes: bytes))
                            case .resize(let rows, let cols):
                                _ = dvic_pty_set_window_size(control, rows, cols)
                            case .close:
                                return .hangUp
                            }
                        }
                        return .idle
                    }
                    var exited = false
                    var readerDone = false
                    while let step = await group.next() {
                        switch step {
                        case .readerDone:
                            readerDone = true
                        case .exited(let result):
                            termination = result
                            exited = true
                            if !readerDone {
                                let grace = configuration.drainGrace
                                group.addTask {
                                    try? await Task.sleep(for: grace)
                                    return .drainExpired
                                }
                            }
                        case .hangUp:
                            closedByServer = true
                            ChildProcess.signalGroup(pid, SIGHUP)
                            let grace = configuration.closeGrace
                            group.addTask {
                                try? await Task.sleep(for: grace)
                                return .escalate
                            }
                        case .escalate:
                            ChildProcess.signalGroup(pid, SIGKILL)
                        case .drainExpired:
                            readerDone = true
                        case .idle:
                            break
                        }
                        if exited && readerDone {
                            group.cancelAll()
                            break
                        }
                    }
                }
            }
        } onCancel: {
            ChildProcess.signalGroup(pid, SIGKILL)
        }
        let exitCode: Int64
        var reason: String
        switch termination {
        case .exited(let code):
            exitCode = Int64(code)
            reason = "exited"
        case .signaled(let signal):
            exitCode = -1
            reason = "killed by signal \(signal)"
        }
        if closedByServer { reason = "closed" }
        logger.debug("terminal closed", metadata: ["session": "\(id)", "exitCode": "\(exitCode)"])
        await emit([.ptyClose(PtyClose(sessionID: id, exitCode: exitCode, reason: reason))])
    }

    /// The program to run and its argv: the request's (searched in PATH), or the login shell
    /// started as a login shell (`-bash`).
    static func program(for argv: [String]) -> (String?, [String]) {
        if let first = argv.first {
            return (FileSystem.which(first), argv)
        }
        var shell = "/bin/sh"
        if let entry = getpwuid(getuid()), let field = entry.pointee.pw_shell {
            let candidate = String(cString: field)
            if FileSystem.isExecutable(candidate) { shell = candidate }
        }
        let name = shell.split(separator: "/").last.map(String.init) ?? "sh"
        return (shell, ["-" + name])
    }

    /// The agent's environment with TERM, HOME, USER, LOGNAME and SHELL filled in when missing
    /// (a systemd service has few), then the request's variables on top.
    static func environment(overrides: [KeyValue]) -> [String] {
        var values: [String: String] = [:]
        var order: [String] = []
        func set(_ key: String, _ value: String) {
            if values[key] == nil { order.append(key) }
            values[key] = value
        }
        var cursor = dvic_environ()
        while let entry = cursor?.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                set(String(text[..<equals]), String(text[text.index(after: equals)...]))
            }
            cursor = cursor?.advanced(by: 1)
        }
        if let entry = getpwuid(getuid()) {
            let user = String(cString: entry.pointee.pw_name)
            if values["HOME"] == nil { set("HOME", String(cString: entry.pointee.pw_dir)) }
            if values["USER"] == nil { set("USER", user) }
            if values["LOGNAME"] == nil { set("LOGNAME", user) }
            if values["SHELL"] == nil { set("SHELL", String(cString: entry.pointee.pw_shell)) }
        }
        if values["PATH"] == nil { set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") }
        set("TERM", "xterm-256color")
        for pair in overrides { set(pair.key, pair.value) }
        return order.map { "\($0)=\(values[$0]!)" }
    }
}
