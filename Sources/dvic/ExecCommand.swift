import ArgumentParser
import DVICCLI

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a shell command on many nodes and collect every result.",
        usage: "dvic exec (--node <NODE> ... | --tag <TAG> ... | --all) [--timeout <SECONDS>] [--json] -- <COMMAND>...",
        discussion: """
            A live progress line (done/total, ok, failed) is redrawn on stderr when it is a \
            terminal. Then every output line is printed prefixed by its node's name \
            (`name | ` for stdout, `name ! ` for stderr), then a result per node. The exit \
            code is 0 only if every node exited 0, else 1. Ctrl-C cancels the command on \
            the nodes.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .customLong("node"), help: ArgumentHelp("A target node (repeatable).", valueName: "NODE")) var nodes: [String] = []
    @Option(name: .customLong("tag"), help: ArgumentHelp("Every node with this tag (repeatable).", valueName: "TAG")) var tags: [String] = []
    @Flag(help: "Every node.") var all = false
    @Option(help: ArgumentHelp("Seconds before a node's command is killed.", valueName: "SECONDS")) var timeout: Double = 30
    @Flag(help: "Machine-readable output.") var json = false
    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command line, after --.", valueName: "COMMAND")) var command: [String] = []

    func validate() throws {
        do throws(CLIError) {
            try options.validate()
        } catch {
            throw ValidationError(error.message)
        }
    }

    var options: Commands.ExecOptions {
        Commands.ExecOptions(nodes: nodes, tags: tags, all: all, timeoutSeconds: timeout, command: command, json: json)
    }

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.exec(options, client: try connection.client())
        }
    }
}

struct ShellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "An interactive terminal on a node.",
        discussion: """
            Ctrl-] detaches and leaves the session running (rejoin with --join). The remote \
            shell's exit code becomes dvic's.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("A node name, id, or unique id prefix.", valueName: "NODE")) var node: String
    @Option(help: ArgumentHelp("The program to run instead of the login shell, e.g. /bin/bash.", valueName: "PROGRAM")) var command: String?
    @Option(help: ArgumentHelp("Join an open session instead of starting one.", valueName: "SESSION")) var join: String?

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.shell(Commands.ShellOptions(node: node, command: command, join: join), client: try connection.client())
        }
    }
}
