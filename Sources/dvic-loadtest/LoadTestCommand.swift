import ArgumentParser
import DVICTesting
import Foundation

/// `dvic-loadtest --server URL --nodes N --duration SECONDS --json FILE` (CONTRACT.md):
/// many simulated nodes against one server over the real protocol; prints a table,
/// writes the JSON, and exits non-zero when any line was lost or duplicated, a
/// handshake failed, a node lost its connection and did not get it back, or a
/// broadcast did not come back whole.
@main
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dvic-loadtest",
        abstract: "Drive one dvic-server with simulated nodes, measure it, and check that nothing is lost.",
        discussion: """
            Each node enrolls, does the signed handshake, and sends metric samples and log \
            batches at the given rates. A node whose connection drops during the run (ping \
            timeout, server close, socket error) reconnects as the real agent does: after \
            0.5-2 s (jittered, growing to 2-8 s), up to --reconnect-attempts times, with the \
            same key; it reads its stream's resume point from the welcome and resends every \
            line after it, same seqs, text and timestamps. Lines it makes while offline are \
            kept and sent then.

            The report (table, and JSON with --json):
              connect        authenticated / refused; handshake latency (first connect)
              traffic        frames, log lines and bytes sent per second
              ingestLag      per batch, oldest line's timestamp to its ack; a resent
                             batch counts from its original timestamp (it is late)
              broadcasts     `true` to every node, from the POST until every result is
                             back, seen on a stream following commands only (as
                             `dvic exec` watches a command)
              stream         dashboard-stream latency (one subscriber)
              server, loadGenerator, machineMeanCPUPercent: RSS and CPU, /proc
              drainSeconds   end of the load to the last ack
              disconnectedDuringRun, disconnectReasons: connections that
                             dropped during load or drain, and why
              reconnects     succeeded (reconnections), nodes (that needed one),
                             notReconnected (not connected at the end), resentLines
              unackedLines   lines never acknowledged
              delivery       lost / duplicated, against GET /v1/admin/log-counts

            It passes when every node authenticated, every line was stored exactly once \
            and acknowledged, every node that dropped was back by the end, and every \
            broadcast came back whole; then it exits 0, else 1. With --processes N the \
            children's ledgers, latencies and reconnect counts are merged into one report.
            """)

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
    @Flag(help: "A node whose connection drops stays down (its unacknowledged lines are then lost).") var noReconnect = false
    @Option(help: "Handshakes a dropped node tries before it gives up.") var reconnectAttempts: Int = 10
    @Option(help: .hidden) var plant: [String] = []
    @Option(help: "Write the report as JSON here.") var json: String?
    @Option(help: .hidden) var worker: String?
    @Option(help: .hidden) var workerOutput: String?

    func validate() throws {
        guard nodes > 0, duration > 0 else { throw ValidationError("--nodes and --duration must be positive") }
        guard processes >= 1, processes <= nodes else { throw ValidationError("--processes must be between 1 and --nodes") }
        guard reconnectAttempts >= 1 else { throw ValidationError("--reconnect-attempts must be at least 1") }
        for fault in plant where Self.fault(fault) == nil {
            throw ValidationError("--plant \(fault): expected KIND:NODE, KIND one of drop-line, repeat-line, resend-batch, drop-connection")
        }
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
        options.reconnect = !noReconnect
        options.reconnectAttempts = reconnectAttempts
        options.plant = plant.compactMap(Self.fault)
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

    /// A planted fault, `kind:node` (for tests; the children of `--processes` get it too).
    static func fault(_ text: String) -> LoadTestOptions.PlantedFault? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let node = Int(parts[1]) else { return nil }
        switch parts[0] {
        case "drop-line": return .dropLine(node: node)
        case "repeat-line": return .repeatLine(node: node)
        case "resend-batch": return .resendBatch(node: node)
        case "drop-connection": return .dropConnection(node: node)
        default: return nil
        }
    }

    static let progress: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data("dvic-loadtest[\(getpid())]: \(line)\n".utf8))
    }
}


