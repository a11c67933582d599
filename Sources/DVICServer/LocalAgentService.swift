internal import DVICAgentCore
internal import DVICStore
internal import DVICServerCore
internal import DVICProtocol
public import Logging
public import ServiceLifecycle

/// The agent that runs inside `dvic-server` (unless `--no-local-agent`), so that the
/// machine the server runs on is the first node. It is the same `Agent` as
/// `dvic-agent`, connecting over loopback once the server listens; it enrolls itself
/// directly through the registry (the private key still never leaves its state
/// folder), and on later starts reconnects as the same node.
public struct LocalAgentService: Service {
    let server: FleetServer
    let port: AsyncStream<Int>
    let logger: Logger

    /// The local agent's state directory: `<data>` and this.
    static let stateFolder = "/local-agent"

    public init(server: FleetServer, port: AsyncStream<Int>, logger: Logger) {
        self.server = server
        self.port = port
        self.logger = logger
    }

    public func run() async throws {
        var ports = port.makeAsyncIterator()
        guard let port = await ports.next() else { return }
        var configuration = AgentConfiguration()
        configuration.serverURL = "http://127.0.0.1:\(port)"
        configuration.enrollToken = "local"
        configuration.stateDirectory = server.configuration.dataDirectory + Self.stateFolder
        configuration.tags = ["server"]
        if let logDirectory = server.configuration.localAgentLogDirectory {
            configuration.logDirectory = logDirectory
        }
        let server = self.server
        let enrollment: AgentEnrollment = { request in
            let nodeID = "n-" + AuthService.newToken(prefix: "").prefix(12).lowercased().filter { $0.isLetter || $0.isNumber }
            let hostname = request.inventory.first { $0.key == "hostname" }?.value ?? "dvic-server"
            _ = try await server.registry.add(NodeRecord(
                id: nodeID, name: request.name ?? hostname, kind: "agent", tags: request.tags, publicKey: request.publicKey,
                createdAt: server.clock.now(), lastSeen: 0))
            return nodeID
        }
        var agentLogger = logger
        agentLogger[metadataKey: "agent"] = "local"
        let agent = Agent(configuration: configuration, logger: agentLogger, enrollment: enrollment)
        try await agent.run()
    }
}
