public import DVICServerCore
public import DVICStore
public import Hummingbird
public import HummingbirdWebSocket
public import Logging
public import ServiceLifecycle
internal import NIOCore
internal import DVICProtocol
internal import Prometheus
internal import UnixSignals
internal import Foundation
import Synchronization

/// One `dvic-server`: the store, the actors, and the HTTP and WebSocket endpoints
/// around them, run as one `ServiceGroup` so that a graceful shutdown stops intake
/// first and flushes every buffered write before the store closes.
public final class FleetServer: Sendable {
    public static let version = "0.1.0"

    public let configuration: ServerConfiguration
    public let clock: FleetClock
    public let logger: Logger
    public let store: any FleetStore
    public let hub: StreamHub
    public let links: LinkDirectory
    public let registry: NodeRegistry
    public let metrics: MetricStore
    public let logs: LogRouter
    public let commands: CommandDispatcher
    public let auth: AuthService
    public let audit: AuditLog
    public let installs: InstallCoordinator
    /// Agent builds for installs and updates, and their one-time download tokens (issue #8).
    public let agentBuilds: AgentBuilds
    /// Agent update rollouts (`POST /v1/updates`).
    public let updates: UpdateRollouts
    public let serverMetrics = ServerMetrics()
    /// Where actors' messages to agents wait for their connection's event loop.
    let agentMailboxes = EventLoopMailbox.Directory()
    /// Last keepalive sequence number and uptime per device, to drop resent keepalives.
    let deviceSequences = Mutex<[String: (seq: UInt64, uptime: UInt64)]>([:])
    private let generatedPassword = Mutex<String?>(nil)

    public init(configuration: ServerConfiguration, store: any FleetStore, clock: FleetClock = .system, logger: Logger) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.store = store
        let hub = StreamHub()
        let links = LinkDirectory()
        let audit = AuditLog(store: store, clock: clock, logger: logger)
        let registry = NodeRegistry(store: store, hub: hub, links: links, clock: clock, agentTimeoutMs: Int64(configuration.agentTimeoutSeconds) * 1000, logger: logger)
        self.hub = hub
        self.links = links
        self.audit = audit
        self.registry = registry
        self.metrics = MetricStore(store: store, hub: hub, clock: clock, windowSamples: configuration.metricWindowSamples, logger: logger)
        self.logs = LogRouter(store: store, hub: hub, links: links, clock: clock, retentionDays: configuration.logRetentionDays, logger: logger)
        self.commands = CommandDispatcher(
            registry: registry, links: links, hub: hub, store: store, audit: audit, clock: clock,
            graceMs: Int64(configuration.commandGraceMilliseconds), logger: logger)
        self.auth = AuthService(store: store, clock: clock, bcryptCost: configuration.bcryptCost, logger: logger)
        self.agentBuilds = AgentBuilds(
            directory: configuration.dataDirectory + "/agent-builds", releaseKeyText: configuration.releaseKeyText,
            fallbackBinaryPath: configuration.agentBinaryPath, clock: clock, logger: logger)
        self.installs = InstallCoordinator(store: store, hub: hub, links: links, registry: registry, audit: audit, clock: clock, logger: logger)
        self.updates = UpdateRollouts(
            registry: registry, links: links, hub: hub, audit: audit, builds: agentBuilds, clock: clock,
            localAgentStateDirectory: configuration.localAgent ? configuration.dataDirectory + LocalAgentService.stateFolder : nil, logger: logger)
    }

    /// Opens the store named by the configuration (creating the data directory).
    public static func openStore(_ configuration: ServerConfiguration) async throws -> any FleetStore {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        return try await FleetStoreFactory.open(databaseURL: configuration.databaseURL, dataDirectory: configuration.dataDirectory)
    }

    /// Loads the registry and creates the admin on first start. Runs before the server
    /// accepts connections (the store is already running then, which PostgreSQL needs).
    public func prepare() async throws {
        try await registry.load()
        let generated = try await auth.bootstrapAdmin(password: configuration.adminPassword)
        generatedPassword.withLock { $0 = generated }
    }

    /// The admin password generated on first start (printed once), if there was one.
    public var generatedAdminPassword: String? { generatedPassword.withLock { $0 } }

    /// The HTTP application; `onRunning` hears the bound port (useful with port 0).
    public func makeApplication(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = makeRouter()
        let agentConnection = AgentConnection(server: self)
        let streamConnection = StreamConnection(server: self)
        let allowedOrigins = configuration.allowedOrigins
        // A peer that does not answer a close within 3 s (a dead path, a stuck client)
        // must not hold a shutdown.
        let wsConfiguration = WebSocketServerConfiguration(
            maxFrameSize: configuration.limits.maxMessageBytes, autoPing: .enabled(timePeriod: .seconds(30)), closeTimeout: .seconds(3))
        var application = Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: wsConfiguration) { request, channel, logger in
                switch (request.path ?? "").split(separator: "?").first {
                case "/v1/agent":
                    return .upgrade([:]) { inbound, outbound, context in
                        try await agentConnection.handle(inbound: inbound, outbound: outbound, channel: channel, logger: context.logger)
                    }
                case "/v1/stream":
                    guard Self.originAllowed(request.headerFields[.origin], host: request.authority, allowed: allowedOrigins) else {
                        logger.warning("refused a stream upgrade from a foreign origin", metadata: ["origin": "\(request.headerFields[.origin] ?? "")"])
                        return .dontUpgrade
                    }
                    return .upgrade([:]) { inbound, outbound, context in
                        try await streamConnection.handle(inbound: inbound, outbound: outbound, logger: context.logger)
                    }
                default:
                    return .dontUpgrade
                }
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "dvic-server"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        application.beforeServerStarts { try await self.prepare() }
        return application
    }

    /// Browsers send `Origin`; only a page from the server's own address (or a
    /// configured origin) may open a stream, so another site cannot ride a viewer's
    /// session. Non-browser clients send none, or a `ws:` origin naming the host.
    static func originAllowed(_ origin: String?, host: String?, allowed: [String]) -> Bool {
        guard let origin, !origin.isEmpty else { return true }
        if allowed.contains("*") || allowed.contains(origin) { return true }
        guard let host else { return false }
        if origin == "http://\(host)" || origin == "https://\(host)" { return true }
        // ws(s) origins come only from non-browser clients; compare host names.
        for scheme in ["ws://", "wss://"] where origin.hasPrefix(scheme) {
            return hostName(String(origin.dropFirst(scheme.count))) == hostName(host)
        }
        return false
    }

    static func hostName(_ authority: String) -> String {
        if authority.hasPrefix("[") { return String(authority.prefix { $0 != "]" }) + "]" }
        return String(authority.prefix { $0 != ":" && $0 != "/" })
    }

    /// The long-lived parts, in start order (they stop in reverse order).
    public func services(application: some ApplicationProtocol) -> [any Service] {
        [StoreService(store: store), registry, metrics, logs, commands, installs, updates, FleetGaugeService(server: self), application]
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let application = makeApplication { port in
            portContinuation.yield(port)
            portContinuation.finish()
            await onRunning(port)
        }
        var services = services(application: application)
        if configuration.localAgent {
            // Last, so that on shutdown it stops first, while the server still listens.
            services.append(LocalAgentService(server: self, port: ports, logger: logger))
        }
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// Runs the store for the server's lifetime and closes it last.
struct StoreService: Service {
    let store: any FleetStore

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            do throws(StoreError) {
                try await store.run()
            } catch where error.code == .cancelled {
                // Cancelled by the shutdown: expected.
            }
        }
        await store.close()
    }
}

/// Refreshes the per-node Prometheus gauges every few seconds.
struct FleetGaugeService: Service {
    let server: FleetServer

    func run() async throws {
        repeat {
            await server.refreshGauges()
        } while await GracefulTimer.tick(.seconds(5))
    }
}

extension FleetServer {
    func refreshGauges() async {
        var fleet: [(id: String, name: String, up: Bool, values: [String: Double])] = []
        for node in await registry.nodes() {
            let values = await metrics.latest(nodeID: node.id)?.values ?? [:]
            fleet.append((node.id, node.name, node.state == .online, values))
        }
        serverMetrics.updateFleet(fleet)
        serverMetrics.logRowsStored.set(Double(await logs.rowsStored))
        serverMetrics.logDuplicatesDropped.set(Double(await logs.duplicatesDropped))
        serverMetrics.ingestLagSeconds.set(Double(await logs.lastIngestLagMs) / 1000)
        serverMetrics.dbBatchSeconds.set(Double(await logs.lastWriteMs) / 1000)
    }
}
