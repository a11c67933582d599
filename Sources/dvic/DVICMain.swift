import ArgumentParser
import DVICCLI

/// `dvic`: the fleet from a terminal. The commands' logic lives in DVICCLI; this
/// target parses flags (swift-argument-parser) and maps errors to exit codes.
@main
struct DVIC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dvic",
        abstract: "The DVIC fleet from a terminal: nodes, logs, metrics, commands and shells.",
        discussion: """
            Every command takes --server URL and --token TOKEN, or DVIC_SERVER and DVIC_TOKEN \
            from the environment, or what `dvic login` saved in ~/.config/dvic/config.json \
            (mode 0600); flags win over the environment, which wins over the file. The saved \
            token is only sent to the server it came from.

            Listings align their columns for people; --json prints stable machine output \
            (keys sorted; `dvic logs --json` prints one object per line). Errors are one \
            line on stderr.

            \(CLIExitCode.helpTable)

            Shell completion: dvic --generate-completion-script bash|zsh|fish
            """,
        version: "0.1.0",
        subcommands: [
            LoginCommand.self, LogoutCommand.self, NodesCommand.self, NodeCommand.self, LogsCommand.self, MetricsCommand.self,
            ExecCommand.self, ShellCommand.self, EnrollCommand.self, DeviceCommand.self, AuditCommand.self, TopCommand.self,
            UpdateCommand.self, BuildsCommand.self,
        ])
}
