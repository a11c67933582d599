import ArgumentParser
import DVICCLI

struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the nodes: status, name, id, tags, CPU, memory, temperature, demos, last seen.")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: ArgumentHelp("Only nodes with this tag.", valueName: "TAG")) var tag: String?
    @Option(help: ArgumentHelp("Only online or offline nodes.", valueName: "online|offline")) var status: String?
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.nodes(Commands.NodesOptions(tag: tag, status: status, json: json), client: try connection.client())
        }
    }
}

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "One node: show it, or add a machine over SSH.",
        subcommands: [NodeShowCommand.self, NodeAddCommand.self])
}

struct NodeShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "A node's inventory, latest metrics, demos and containers.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("A node name, id, or unique id prefix.", valueName: "NODE")) var node: String
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.nodeShow(node, json: json, client: try connection.client())
        }
    }
}
