import ArgumentParser
import DVICTesting
import Foundation

/// `dvic-loadtest --server URL --nodes N --duration SECONDS --json FILE` (CONTRACT.md):
/// many simulated nodes against one server over the real protocol; prints a table,
/// writes the JSON, and exits non-zero when any line was lost or duplicated, a
/// handshake failed, or a broadcast did not come back whole.
@main
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dvic-loadtest",
        abstract: "Drive one dvic-server with simulated nodes, measure it, and check that nothing is lost.")

    @Option(help: "The server, http(s)://host:port.") var server: String
    @Option(help: "Simulated nodes.") var nodes: Int
    @Option(help: "Seconds of load once every node is connected.") var duration: Double
    @Option(help: "Seconds between metric samples of a node.") var metricsInterval: Double = 1
    @Option(help: "Metrics per sample.") var metrics: Int = 20
    @Option(help: "Log lines per node per second.") var logRate: Double = 2
    @Option(help: "Seconds between log batches of a node.") var batchInterval: Double = 0.25
    @Option(help: "Seconds between broadcasts of `true` to every node (0: none).") var broadcastEvery: Double = 0
    @Option(help: "Nodes connecting per second (0: as fast as handshakes go).") var ramp: Double = 0
    @Option(help: "OS processes to spread the nodes over (one process holds at most 20,000 open files).") var processes: Int = 1
    @Option(help: "Handshakes in flight at once.") var connectConcurrency: Int = 256
    @Option(help: "Admin user (its password comes from DVIC_ADMIN_PASSWORD).") var adminUser: String = "admin"
    @Option(help: "The server's pid, for RSS and CPU from /proc (default: a local dvic-server on the port).") var serverPid: Int32?
    @Flag(help: "No dashboard-stream subscriber.") var noSubscriber = false
    @Flag(help: "Nodes send frames undeflated (spares the generator zlib's cost; wire figures are then not the real agent's).") var noCompression = false
    @Option(help: "Seconds to wait for the last acknowledgements.") var drainTimeout: Double = 120
    @Option(help: "Write the report as JSON here.") var json: String?
    @Option(help: .hidden) var worker: String?
    @Option(help: .hidden) var workerOutput: String?

    func validate() throws {
        guard nodes > 0, duration > 0 else { throw ValidationError("--nodes and --duration must be positive") }
        guard processes >= 1, processes <= nodes else { throw ValidationError("--processes must be between 1 and --nodes") }
        guard ProcessInfo.processInfo.environment["DVIC_ADMIN_PASSWORD"] != nil else {
            throw ValidationError("set DVIC_ADMIN_PASSWORD to the server's admin password")
        }
    }

    func run() async throws {
        var options = LoadTestOptions(server: server, nodes: nodes, duration: duration)
        options.metricsInterval = metricsInterval
        options.metrics = metrics
        options.logRate = logRate
        options.batchInterval = batchInterval
        options.broadcastEvery = broadcastEvery
        options.ramp = ramp / Double(processes)
        options.connectConcurrency = connectConcurrency
        options.adminUser = adminUser
        options.adminPassword = ProcessInfo.processInfo.environment["DVIC_ADMIN_PASSWORD"] ?? ""
        options.serverPID = serverPid
        options.subscriber = !noSubscriber
        options.compression = !noCompression
        options.drainTimeout = drainTimeout
        options.workerCount = processes
        if let worker {
            // A child of `--processes`: its share of the nodes, results to a file.
            options.workerIndex = Int(worker) ?? 0
            let result = try await LoadTest(options: options, coordination: .worker(output: workerOutput ?? "/dev/null"), progress: Self.progress).runCollecting()
            try JSONEncoder().encode(result).write(to: URL(fileURLWithPath: workerOutput ?? "/dev/null"))
            return
        }
        let coordination: LoadTest.Coordination = processes > 1 ? try spawnWorkers() : .alone
        let report = try await LoadTest(options: options, coordination: coordination, progress: Self.progress).run()
        print(report.table())
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
        if !report.passed { throw ExitCode(1) }
    }

    /// Starts processes 1…n-1 with the same options; this process runs share 0 and
    /// does the fleet-wide parts.
    func spawnWorkers() throws -> LoadTest.Coordination {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-loadtest-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var outputs: [String] = []
        var pids: [pid_t] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        for index in 1..<processes {
            let output = "\(directory)/worker-\(index).json"
            outputs.append(output)
            // The parent alone writes the report.
            var arguments = Array(CommandLine.arguments.dropFirst()).filter { !$0.hasPrefix("--json=") }
            if let position = arguments.firstIndex(of: "--json") { arguments.removeSubrange(position...min(position + 1, arguments.count - 1)) }
            arguments += ["--worker", "\(index)", "--worker-output", output, "--no-subscriber"]
            pids.append(try Spawn.start(executable, arguments, environment: ProcessInfo.processInfo.environment, stdin: 0, stdout: 2, stderr: 2))
        }
        return .coordinator(outputs: outputs, pids: pids)
    }

    static let progress: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data("dvic-loadtest[\(getpid())]: \(line)\n".utf8))
    }
}


