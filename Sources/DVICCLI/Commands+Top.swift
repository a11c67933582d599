internal import DVICProtocol
internal import Foundation

extension Commands {
    /// `dvic top`: the fleet, busiest CPU first, redrawn in place every second from
    /// the live stream until `q` (or Ctrl-C). When stdout or stdin is not a terminal,
    /// or with `--once`, one snapshot is printed instead; `--json` prints it as JSON.
    public static func top(json: Bool, once: Bool, client: FleetClient) async throws(CLIError) -> Int32 {
        let nodes = try await client.nodes()
        let details = try await client.details(nodes.map(\.id))
        let model = Shared(TopModel(nodes: nodes, details: details))
        if json {
            try printJSON(model.withLock { $0.rows })
            return CLIExitCode.success.rawValue
        }
        guard !once, Console.isTerminal(0), Console.isTerminal(1) else {
            print(model.withLock { $0.table(now: Console.now()).render() })
            return CLIExitCode.success.rawValue
        }

        let stream = try await LiveStream.connect(settings: client.settings)
        var reader = LiveStreamReader(stream)
        let initial = try await reader.subscribe(Subscribe(
            subscriptionID: 1, kinds: 1 | 2 | 16, nodes: [], tags: [], metrics: [], minSeverity: .trace, text: ""), on: stream)
        model.withLock { model in initial.forEach { model.apply($0) } }

        let server = client.settings.server
        @Sendable func draw() {
            let lines = model.withLock { $0.screen(server: server, now: Console.now(), size: Terminal.size(fds: [1])) }
            Console.out("\u{1B}[H" + lines.map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\u{1B}[J", newline: false)
        }

        Console.out("\u{1B}[?1049h\u{1B}[?25l", newline: false)
        try Terminal.enter(.keys, restoreOutput: "\u{1B}[?25h\u{1B}[?1049l")
        defer { Terminal.restore() }
        draw()

        let outcome: CLIError? = await withTaskGroup(of: CLIError?.self) { group in
            group.addTask {
                var reader = LiveStreamReader(stream)
                do throws(CLIError) {
                    while let message = try await reader.next() {
                        model.withLock { $0.apply(message) }
                    }
                    return .unreachable("the live stream ended")
                } catch {
                    return error
                }
            }
            group.addTask {
                for await bytes in Terminal.input() where bytes.contains(UInt8(ascii: "q")) || bytes.contains(UInt8(ascii: "Q")) {
                    return nil
                }
                return nil
            }
            group.addTask {
                for await _ in Terminal.signals(SIGWINCH) { draw() }
                return nil
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if !Task.isCancelled { draw() }
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        Terminal.restore()
        await stream.close()
        if let outcome { throw outcome }
        return CLIExitCode.success.rawValue
    }
}
