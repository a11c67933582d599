internal import Foundation

/// What each `dvic` subcommand does, given its parsed options. The executable only
/// parses flags and calls in here; every function returns the exit code or throws a
/// `CLIError`. One extension per command: `Commands+Nodes.swift` and so on.
public enum Commands {
    /// This process's environment.
    public static var processEnvironment: [String: String] { ProcessInfo.processInfo.environment }

    /// The server and token for this run: flags, then the environment, then the file
    /// `dvic login` saved.
    public static func connection(serverFlag: String?, tokenFlag: String?, environment: [String: String] = Commands.processEnvironment) throws(CLIError) -> FleetClient {
        let config = try CLIConfig.path(environment: environment).map { path throws(CLIError) in try CLIConfig.load(path: path) } ?? CLIConfig()
        return FleetClient(settings: try ConnectionSettings.resolve(serverFlag: serverFlag, tokenFlag: tokenFlag, environment: environment, config: config))
    }

    /// The node a person named (name, id or unique id prefix).
    static func resolveNode(_ query: String, client: FleetClient) async throws(CLIError) -> CLIModel.NodeSummary {
        try NodeResolver.require(query, in: try await client.nodes())
    }

    static func print(_ text: String) {
        Console.out(text)
    }

    static func printJSON(_ value: some Encodable) throws(CLIError) {
        Console.out(try Console.json(value))
    }
}
