/// `dvic exec`'s results for people: every output line prefixed by its node's name
/// (`name | ` for stdout, `name ! ` for stderr), then one row per node and a summary.
/// The exit code is 0 only when every node exited 0.
public struct ExecReport: Sendable, Hashable {
    public var state: CLIModel.CommandState

    public init(_ state: CLIModel.CommandState) {
        self.state = state
    }

    /// Results by node name, then id.
    public var results: [CLIModel.CommandResult] {
        state.results.sorted { ($0.nodeName, $0.node) < ($1.nodeName, $1.node) }
    }

    public var failures: [CLIModel.CommandResult] { results.filter { !$0.succeeded } }

    public var exitCode: CLIExitCode {
        !state.results.isEmpty && failures.isEmpty && state.results.count == state.total ? .success : .commandFailed
    }

    /// What a node's result was: `exit 0`, `exit 3`, `timed out`, `signal 9`, `lost`…
    public static func outcome(_ result: CLIModel.CommandResult) -> String {
        if result.state != "done" { return "running" }
        if let code = result.exitCode { return "exit \(code)" }
        switch result.reason {
        case "timedOut": return "timed out"
        case "signaled": return "signal \(result.signal.map(String.init) ?? "?")"
        case "cancelled": return "cancelled"
        case "failedToStart": return "failed to start"
        case "lost": return "lost"
        case let other?: return other
        case nil: return "unknown"
        }
    }

    public func render() -> String {
        var lines: [String] = []
        let width = min(32, results.map { TextTable.width($0.nodeName) }.max() ?? 0)
        for result in results {
            let name = result.nodeName + String(repeating: " ", count: max(0, width - TextTable.width(result.nodeName)))
            for (text, mark) in [(result.stdout, "|"), (result.stderr, "!")] where !text.isEmpty {
                var body = Substring(text)
                if body.hasSuffix("\n") { body = body.dropLast() }
                for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
                    lines.append("\(name) \(mark) \(HumanFormat.printable(String(line)))")
                }
            }
            if result.truncated { lines.append("\(name) ! (output truncated by the server)") }
        }
        if !lines.isEmpty { lines.append("") }
        var table = TextTable(["NODE", "ID", "RESULT", "TIME"], alignments: [.left, .left, .left, .right])
        for result in results {
            table.append([result.nodeName, result.node, Self.outcome(result), HumanFormat.duration(milliseconds: result.durationMs)])
        }
        lines.append(table.render())
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    /// `20 nodes: 19 ok, 1 failed (sim-7: exit 3)`.
    public var summary: String {
        let failed = failures
        let ok = state.results.count - failed.count
        var text = "\(state.total) node\(state.total == 1 ? "" : "s"): \(ok) ok, \(failed.count) failed"
        if !failed.isEmpty {
            let shown = failed.prefix(10).map { "\($0.nodeName): \(Self.outcome($0))" }.joined(separator: ", ")
            text += " (\(shown)\(failed.count > 10 ? ", …" : ""))"
        }
        return text
    }
}
