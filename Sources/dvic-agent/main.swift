import DVICAgentCore
import Logging
import ServiceLifecycle
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

// dvic-agent: flags and config file as in CONTRACT.md and AgentConfiguration
// (`--server URL --enroll-token TOKEN --state DIR --log-dir DIR --interval S --name N --tag T`).
var arguments = Array(CommandLine.arguments.dropFirst())
if arguments == ["--version"] {
    print(AgentVersion.current)
    exit(0)
}
// `--update-trial SECONDS <flags>`: a new build on trial (SelfUpdater); handshake, then exit.
var trialSeconds: Int?
if arguments.first == UpdateTrial.flag, arguments.count >= 2, let seconds = Int(arguments[1]) {
    trialSeconds = seconds
    arguments.removeFirst(2)
}
var configuration: AgentConfiguration
do {
    configuration = try AgentConfiguration.load(arguments: arguments)
} catch {
    let line = "dvic-agent: \(error)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(64)
}
var logger = Logger(label: "dvic-agent")
logger.logLevel = getenv("DVIC_AGENT_DEBUG") == nil ? .info : .debug
if let trialSeconds {
    let reached = await UpdateTrial.run(configuration: configuration, timeout: .seconds(trialSeconds), logger: logger)
    exit(reached ? 0 : 1)
}
// Self-update swaps this file and execs it again with the same flags.
configuration.executablePath = SelfUpdater.runningExecutable()
configuration.launchArguments = arguments
let agent = Agent(configuration: configuration, logger: logger, enrollment: HTTPEnrollment.client())

// Once started, hand back the code pages only start-up needed, and again now and
// then: the executable's pages are most of an idle agent's RSS (Benchmarks/README.md).
// Only here, never in the server's in-process agent: it acts on the whole process.
let trim = ClosureService {
    guard getenv("DVIC_NO_TRIM") == nil else { return }
    try await cancelWhenGracefulShutdown {
        try await Task.sleep(for: .seconds(3))
        ResidentMemory.releaseFileBackedPages()
        while true {
            try await Task.sleep(for: .seconds(600))
            ResidentMemory.releaseFileBackedPages()
        }
    }
}
let group = ServiceGroup(configuration: .init(
    services: [
        .init(service: agent),
        .init(service: trim, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
    ],
    gracefulShutdownSignals: [.sigterm, .sigint],
    logger: logger))
try await group.run()
