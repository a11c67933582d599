internal import DVICProtocol
internal import Foundation

extension Commands {
    public struct ShellOptions: Sendable {
        public var node: String
        public var command: String?
        public var join: String?

        public init(node: String, command: String?, join: String?) {
            self.node = node
            self.command = command
            self.join = join
        }

        /// `--command "htop -d 5"` as argv; empty for the user's login shell.
        public var argv: [String] {
            guard let command else { return [] }
            return command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
    }

    /// The outcome of the session's tasks.
    private enum ShellEnd: Sendable {
        case exit(Int32, note: String?)
        case detached(String)
        case failed(CLIError)
    }

    /// `dvic shell NODE`: an interactive terminal on the node over the live stream.
    /// Raw mode for the whole session, restored on every way out; the window size at
    /// start and on every SIGWINCH; Ctrl-] detaches; the remote shell's exit code is
    /// dvic's.
    public static func shell(_ options: ShellOptions, client: FleetClient) async throws(CLIError) -> Int32 {
        let node = try await resolveNode(options.node, client: client)
        let stream = try await LiveStream.connect(settings: client.settings)
        let size = Terminal.size() ?? Terminal.Size(rows: 24, cols: 80)
        let core = Shared(ShellCore(nodeID: node.id, nodeName: node.name, size: size))
        stream.send([core.withLock { $0.attachRequest(join: options.join, argv: options.argv) }])

        // Attach first, before touching the terminal.
        var reader = LiveStreamReader(stream)
        let attachDeadline = ContinuousClock.now + .seconds(15)
        var pending: [ShellCore.Action] = []
        while core.withLock({ $0.phase == .attaching }) {
            guard ContinuousClock.now < attachDeadline else {
                await stream.close()
                throw .server("no answer to the terminal request within 15 s")
            }
            guard let message = try await reader.next() else {
                throw .unreachable("the live stream closed before the terminal opened")
            }
            pending += core.withLock { $0.received(message) }
        }
        for action in pending {
            if case .fail(let error) = action {
                await stream.close()
                throw error
            }
        }
        guard core.withLock({ $0.sessionID }) != nil else {
            await stream.close()
            throw .server("the terminal did not open")
        }

        let interactive = Console.isTerminal(0)
        if interactive { try Terminal.enter(.raw) }
        defer { Terminal.restore() }

        /// Performs actions; returns how the session ended, if it did.
        @Sendable func perform(_ actions: [ShellCore.Action]) -> ShellEnd? {
            for action in actions {
                switch action {
                case .send(let message): stream.send([message])
                case .output(var bytes): Console.write(fd: 1, bytes: &bytes)
                case .detach(let id): return .detached(id)
                case .finish(let code, let note): return .exit(code, note: note)
                case .fail(let error): return .failed(error)
                }
            }
            return nil
        }

        let end: ShellEnd
        do {
            end = try await withThrowingTaskGroup(of: ShellEnd?.self) { group in
                if let end = perform(pending) { return end }
                group.addTask {
                    var reader = LiveStreamReader(stream)
                    while let message = try await reader.next() {
                        if let end = perform(core.withLock { $0.received(message) }) { return end }
                    }
                    return .failed(.unreachable("the live stream closed during the session"))
                }
                group.addTask {
                    for await bytes in Terminal.input() {
                        if let end = perform(core.withLock { $0.typed(bytes) }) { return end }
                    }
                    // End of input (not a terminal): end-of-file for the remote shell.
                    if Task.isCancelled { return nil }
                    _ = perform(core.withLock { $0.typed([0x04]) })
                    return nil
                }
                group.addTask {
                    for await _ in Terminal.signals(SIGWINCH) {
                        guard let size = Terminal.size() else { continue }
                        _ = perform(core.withLock { $0.resized(size) })
                    }
                    return nil
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                return .failed(.unreachable("the session ended without a word"))
            }
        } catch let error as CLIError {
            end = .failed(error)
        } catch {
            end = .failed(.unreachable("\(error)"))
        }
        Terminal.restore()
        await stream.close()
        switch end {
        case .exit(let code, let note):
            if let note { Console.err("dvic: \(note)") }
            return code
        case .detached(let id):
            Console.err("\ndvic: detached from session \(id); rejoin with: dvic shell \(node.name) --join \(id)")
            return CLIExitCode.success.rawValue
        case .failed(let error):
            if interactive { Console.err("") }
            throw error
        }
    }
}
