import DVICProtocol
public import Logging
public import NIOCore
public import NIOSSL
public import NIOPosix
import Crypto
public import ServiceLifecycle

/// The DVIC agent as a swift-service-lifecycle `Service`: collectors, demo log watchers, system
/// logs, containers, the spool, commands, terminals and the connection, all owned by `run()`.
///
/// It keeps no global state and handles no signals, so the server can run one in-process as its
/// local agent (giving it an `enrollment` that registers the node directly); the executable runs it
/// in a `ServiceGroup` that turns SIGTERM into a graceful shutdown. Without a server URL it runs
/// offline: it collects, follows and spools, and sends nothing.
public struct Agent: Service {
    public let configuration: AgentConfiguration
    public let logger: Logger
    public let enrollment: AgentEnrollment?
    public let eventLoopGroup: any EventLoopGroup
    public let tlsConfiguration: TLSConfiguration?

    /// - Parameters:
    ///   - enrollment: enrolls the node on first start (`--enroll-token`); required only when the
    ///     state directory holds no node id yet.
    ///   - tlsConfiguration: for `https://`/`wss://` servers; nil uses the system's trust roots.
    public init(
        configuration: AgentConfiguration, logger: Logger, enrollment: AgentEnrollment? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tlsConfiguration: TLSConfiguration? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.enrollment = enrollment
        self.eventLoopGroup = eventLoopGroup
        self.tlsConfiguration = tlsConfiguration
    }

    public func run() async throws {
        try FileSystem.makeDirectory(configuration.stateDirectory, mode: 0o700)
        let spool = try Spool(
            configuration: Spool.Configuration(
                directory: configuration.stateDirectory + "/spool", maxBytes: configuration.spoolMaxBytes,
                synchronizes: configuration.synchronizesSpool),
            logger: logger)
        let runtime = AgentRuntime(configuration: configuration, spool: spool, logger: logger)
        let emit: @Sendable ([DVICProtocol.Message]) async -> Void = { await runtime.enqueue($0) }
        let commands = CommandRunner(
            configuration: CommandRunner.Configuration(
                maxParallel: configuration.commandsMaxParallel, defaultMaxOutputBytes: configuration.commandMaxOutputBytes),
            logger: logger, eventLoopGroup: eventLoopGroup, emit: emit)
        let terminals = PtyManager(
            configuration: PtyManager.Configuration(maxSessions: configuration.terminalsMax), logger: logger,
            eventLoopGroup: eventLoopGroup, emit: emit)
        let installs = InstallRunner(logger: logger, eventLoopGroup: eventLoopGroup, emit: emit)
        await runtime.attach(commands: commands, terminals: terminals, installs: installs)
        let loops = AgentLoops(configuration: configuration, runtime: runtime, logger: logger, eventLoopGroup: eventLoopGroup)
        logger.info(
            "agent starting",
            metadata: [
                "version": "\(AgentVersion.current)", "state": "\(configuration.stateDirectory)",
                "logDir": "\(configuration.logDirectory)", "server": "\(configuration.serverURL ?? "none (offline)")",
            ])
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { await commands.run() }
                    group.addTask { await terminals.run() }
                    group.addTask { await installs.run() }
                    group.addTask { await loops.metrics() }
                    group.addTask { await loops.logs() }
                    group.addTask { await loops.housekeeping() }
                    group.addTask { await loops.journald() }
                    group.addTask { await loops.containers() }
                    group.addTask { await loops.gpu.run(executable: configuration.nvidiaSMIPath, interval: configuration.gpuPollInterval, eventLoopGroup: eventLoopGroup, logger: logger) }
                    if let server = configuration.serverURL {
                        group.addTask { try await connect(runtime: runtime, loops: loops) }
                        let updater = SelfUpdater(settings: selfUpdateSettings(server: server), runtime: runtime, downloader: UpdateDownloader(eventLoopGroup: eventLoopGroup), logger: logger)
                        let offers = await runtime.updateOfferStream()
                        group.addTask { await updater.run(offers: offers) }
                    }
                }
            }
        } catch is CancellationError {
            // Stopped.
        }
        await runtime.shutdown()
        logger.info("agent stopped")
    }

    private func selfUpdateSettings(server: String) -> SelfUpdater.Settings {
        SelfUpdater.Settings(
            executable: configuration.executablePath, arguments: configuration.launchArguments, releaseKey: configuration.releaseKey,
            serverURL: server, stateDirectory: configuration.stateDirectory, timeout: configuration.updateTimeout)
    }

    /// Enrolls when needed, then keeps the connection up.
    private func connect(runtime: AgentRuntime, loops: AgentLoops) async throws {
        guard let server = configuration.serverURL else { return }
        var identity = try AgentIdentity.load(stateDirectory: configuration.stateDirectory)
        if identity == nil {
            guard let token = configuration.enrollToken, let enrollment else {
                logger.error("not enrolled: start once with --enroll-token; running offline meanwhile")
                return
            }
            let key = try AgentIdentity.loadOrCreateKey(stateDirectory: configuration.stateDirectory)
            var backoff = Backoff(base: .seconds(1), cap: .seconds(30))
            while identity == nil {
                let request = EnrollmentRequest(
                    serverURL: server, token: token, publicKey: Array(key.publicKey.rawRepresentation),
                    name: configuration.name, tags: configuration.tags, inventory: loops.inventory())
                do {
                    let nodeID = try await enrollment(request)
                    try AgentIdentity.saveNodeID(nodeID, stateDirectory: configuration.stateDirectory)
                    identity = AgentIdentity(nodeID: nodeID, privateKey: key)
                    logger.info("enrolled", metadata: ["node": "\(nodeID)"])
                } catch {
                    let delay = backoff.next()
                    logger.warning("enrollment failed; retrying", metadata: ["error": "\(error)", "delay": "\(delay)"])
                    try await Task.sleep(for: delay)
                }
            }
        }
        let connection = try AgentConnection(
            serverURL: server, identity: identity!, runtime: runtime, logger: logger, eventLoopGroup: eventLoopGroup,
            tlsConfiguration: tlsConfiguration)
        await connection.run()
    }
}
