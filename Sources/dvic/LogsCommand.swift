import ArgumentParser
import DVICCLI

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Stored log lines, oldest first; with -f, then the live ones.",
        discussion: """
            --grep finds words in stored lines (full-text search) and, with -f, a \
            case-insensitive substring in live ones. --json prints one JSON object per line.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("Only this node (name, id or unique id prefix).", valueName: "NODE")) var node: String?
    @Option(help: ArgumentHelp("Only this stream key, e.g. journald or demo:TOKEN.", valueName: "KEY")) var stream: String?
    @Option(help: ArgumentHelp("Lowest level shown: trace, debug, info, warn, error, fatal.", valueName: "LEVEL")) var level: String?
    @Option(help: ArgumentHelp("Only lines with this text.", valueName: "TEXT")) var grep: String?
    @Option(help: ArgumentHelp("Only lines newer than this: an age (10m, 2h) or an RFC 3339 time.", valueName: "AGE")) var since: String?
    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("Most stored lines shown (default 200, or 10 with -f).", valueName: "N")) var limit: Int?
    @Flag(name: [.customShort("f"), .long], help: "Keep printing new lines as they arrive (Ctrl-C to stop).") var follow = false
    @Flag(help: "Machine-readable output (NDJSON).") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.logs(
                Commands.LogsOptions(node: node, stream: stream, level: level, grep: grep, since: since, limit: limit, follow: follow, json: json),
                client: try connection.client())
        }
    }
}

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "A node's metric over time, with a sparkline.",
        discussion: "Metric names are the agent's, e.g. cpu.total, mem.used, temp.cpu, net.eth0.rx; a device's are its keepalive's, e.g. temp_c.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("A node name, id, or unique id prefix.", valueName: "NODE")) var node: String
    @Argument(help: ArgumentHelp("The metric, e.g. cpu.total.", valueName: "NAME")) var name: String
    @Option(help: ArgumentHelp("How far back: an age (10m, 1h, 2d) or an RFC 3339 time.", valueName: "AGE")) var since = "1h"
    @Option(help: ArgumentHelp("Average into buckets of this size, e.g. 1m.", valueName: "DURATION")) var step: String?
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.metrics(Commands.MetricsOptions(node: node, name: name, since: since, step: step, json: json), client: try connection.client())
        }
    }
}
