internal import DVICProtocol
internal import Foundation

extension Commands {
    public struct ExecOptions: Sendable {
        public var nodes: [String]
        public var tags: [String]
        public var all: Bool
        public var timeoutSeconds: Double
        public var command: [String]
        public var json: Bool

        public init(nodes: [String], tags: [String], all: Bool, timeoutSeconds: Double, command: [String], json: Bool) {
            self.nodes = nodes
            self.tags = tags
            self.all = all
            self.timeoutSeconds = timeoutSeconds
            self.command = command
            self.json = json
        }

        /// The shell command line: the words after `--`, joined by spaces (as ssh does).
        public var commandLine: String {
            (command.first == "--" ? Array(command.dropFirst()) : command).joined(separator: " ")
        }

        public func validate() throws(CLIError) {
            let kinds = [!nodes.isEmpty, !tags.isEmpty, all].filter { $0 }.count
            guard kinds == 1 else { throw .usage("choose the targets with exactly one of --node N…, --tag T… or --all") }
            guard !commandLine.trimmingWhitespace().isEmpty else { throw .usage("no command: dvic exec --all -- COMMAND…") }
            guard timeoutSeconds > 0, timeoutSeconds <= 86_400 else { throw .usage("--timeout must be between 0 and 86400 seconds") }
        }
    }

    /// `dvic exec`: runs a command on many nodes with a live progress line, then
    /// prints every node's output and result. Exit code 0 only if every node exited 0.
    /// Ctrl-C once cancels the command on the nodes; twice leaves at once.
    public static func exec(_ options: ExecOptions, client: FleetClient) async throws(CLIError) -> Int32 {
        try options.validate()
        let targets = try await resolveTargets(nodes: options.nodes, tags: options.tags, client: client)
        let filterNodes = targets.nodes ?? []
        let showProgress = !options.json && Console.isTerminal(2)

        // The stream first, so no progress event is missed; without it, polling alone.
        let live = await LiveStream.subscribed(settings: client.settings, Subscribe(
            subscriptionID: 1, kinds: 8, nodes: filterNodes, tags: options.tags, metrics: [], minSeverity: .trace, text: ""))

        let id = try await client.runCommand(CLIModel.CommandRequest(targets: targets, command: options.commandLine, timeoutSeconds: options.timeoutSeconds))
        let progress = Shared(ExecProgress(commandID: id))
        let interrupts = Terminal.signals(SIGINT)
        let interrupted = Shared(0)
        let deadline = ContinuousClock.now + .seconds(options.timeoutSeconds + 30)

        let final: CLIModel.CommandState? = try await withThrowingTaskGroupCLI { group in
            if let live {
                group.addTask {
                    var reader = LiveStreamReader(live)
                    while let message = try? await reader.next() {
                        if case .commandProgress(let event) = message { progress.withLock { $0.apply(event) } }
                    }
                    return nil
                }
            }
            group.addTask {
                for await _ in interrupts {
                    let count = interrupted.withLock { value in
                        value += 1
                        return value
                    }
                    if count > 1 {
                        Terminal.restore()
                        Console.err("\ndvic: interrupted; command \(id) may still be running")
                        exit(130)
                    }
                    Console.err((showProgress ? "\r\u{1B}[K" : "\n") + "dvic: cancelling \(id) on its nodes (Ctrl-C again to leave now)")
                    _ = try? await client.send("POST", "/v1/commands/\(id)/cancel")
                }
                return nil
            }
            group.addTask {
                var last: CLIModel.CommandState?
                var lastPoll = ContinuousClock.now - .seconds(10)
                var drawn = ""
                while ContinuousClock.now < deadline {
                    let streamSaysDone = progress.withLock { $0.isDone }
                    let interval: Duration = live == nil ? .milliseconds(250) : .seconds(1)
                    if streamSaysDone || ContinuousClock.now - lastPoll >= interval {
                        lastPoll = ContinuousClock.now
                        let state = try await client.command(id)
                        last = state
                        progress.withLock { $0.apply(state) }
                        if state.state == "done" { break }
                    }
                    if showProgress {
                        let line = "\(id): " + progress.withLock { $0.line }
                        if line != drawn {
                            Console.err("\r\u{1B}[K" + line, newline: false)
                            drawn = line
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                if showProgress { Console.err("\r\u{1B}[K", newline: false) }
                return last
            }
            // The poller decides; the others end with it.
            return try await group.firstAnswer()
        }
        if let live { await live.close() }
        guard let final else { throw .server("command \(id) gave no state") }
        if options.json {
            try printJSON(final)
        } else {
            print(ExecReport(final).render())
        }
        if final.state != "done" {
            Console.err("dvic: command \(id) still running after \(HumanFormat.number(options.timeoutSeconds))s plus grace; results above are partial")
        }
        return ExecReport(final).exitCode.rawValue
    }
}

extension Commands {
    /// `--node` (names, ids or prefixes, resolved to ids), else `--tag`, else every node.
    static func resolveTargets(nodes: [String], tags: [String], client: FleetClient) async throws(CLIError) -> CLIModel.Targets {
        var targets = CLIModel.Targets()
        if !nodes.isEmpty {
            let fleet = try await client.nodes()
            var ids: [String] = []
            for query in nodes {
                let id = try NodeResolver.require(query, in: fleet).id
                if !ids.contains(id) { ids.append(id) }
            }
            targets.nodes = ids
        } else if !tags.isEmpty {
            targets.tags = tags
        } else {
            targets.all = true
        }
        return targets
    }
}

/// A throwing task group whose errors come out as `CLIError`.
func withThrowingTaskGroupCLI<Result: Sendable>(
    _ body: (inout ThrowingTaskGroup<Result, any Error>) async throws -> Result
) async throws(CLIError) -> Result {
    do {
        return try await withThrowingTaskGroup(of: Result.self, returning: Result.self) { group in
            try await body(&group)
        }
    } catch let error as CLIError {
        throw error
    } catch {
        throw .server("\(error)")
    }
}
