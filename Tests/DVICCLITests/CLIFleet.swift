import DVICProtocol
import DVICServer
import DVICTesting
import Foundation
import Testing

/// The built `dvic` next to this test bundle (`.build/debug/dvic`), which
/// `swift build --build-tests` (tools/test) and `swift build --product dvic` make.
enum DVICBinary {
    static let path: String = {
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("dvic"))
            directory = directory.deletingLastPathComponent()
        }
        if let bundle = Bundle.main.executableURL?.deletingLastPathComponent() {
            candidates.append(bundle.appendingPathComponent("dvic"))
        }
        // The package root from this file: Tests/DVICCLITests/CLIFleet.swift.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/dvic"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }?.path ?? candidates.last!.path
    }()

    static func require() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("the dvic executable is not built at \(path): run `swift build --product dvic` first")
        }
        return path
    }
}

/// What one run of `dvic` gave.
struct CLIResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
    var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }

    func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(stdout.utf8))
    }

    /// The stdout as generic JSON.
    var object: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
}

/// A real server on port 0 with simulated agents, and a temporary HOME for `dvic`.
struct CLIFleet {
    let harness: FleetHarness
    let admin: APIClient
    let home: String

    static func start(configure: @escaping @Sendable (inout ServerConfiguration) -> Void = { _ in }) async throws -> CLIFleet {
        let harness = try await FleetHarness.start(configure: configure)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-cli-home-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        return CLIFleet(harness: harness, admin: try await harness.adminClient(), home: home)
    }

    var token: String { admin.token! }

    /// HOME, PATH, and the server and admin token through DVIC_SERVER/DVIC_TOKEN.
    var environment: [String: String] {
        baseEnvironment.merging(["DVIC_SERVER": harness.baseURL, "DVIC_TOKEN": token]) { _, new in new }
    }

    /// HOME and PATH only.
    var baseEnvironment: [String: String] {
        ["HOME": home, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8"]
    }

    func enrollmentToken(name: String, tags: [String]) async throws -> String {
        let reply = try await admin.post("/v1/enrollments", ["name": name, "tags": tags, "ttlSeconds": 600])
        guard reply.status == 201, let token = reply.object["token"] as? String else {
            throw HarnessError("enrollment failed: \(reply.status) \(reply.text)")
        }
        return token
    }

    /// Enrolls and connects `count` simulated agents named `prefix-0` ….
    func agents(_ count: Int, tags: [String] = [], prefix: String = "sim", autoRespond: Bool = true) async throws -> [SimulatedAgent] {
        var agents: [SimulatedAgent] = []
        for index in 0..<count {
            let name = "\(prefix)-\(index)"
            let agent = try await SimulatedAgent.enroll(
                baseURL: harness.baseURL, token: try await enrollmentToken(name: name, tags: tags), name: name, autoRespond: autoRespond)
            try await agent.connect(url: harness.agentURL)
            agents.append(agent)
        }
        return agents
    }

    func user(_ name: String, role: String) async throws -> APIClient {
        let reply = try await admin.post("/v1/users", ["username": name, "password": "password-\(name)", "role": role])
        guard reply.status == 201 else { throw HarnessError("user: \(reply.status) \(reply.text)") }
        return try await APIClient.login(baseURL: harness.baseURL, username: name, password: "password-\(name)")
    }

    /// Runs `dvic` to the end.
    func dvic(_ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil, timeout: Duration = .seconds(60)) async throws -> CLIResult {
        let child = try start(arguments, environment: environment, stdin: stdin)
        guard let status = await child.wait(timeout: timeout) else {
            throw HarnessError("dvic \(arguments.joined(separator: " ")) did not finish in \(timeout)\n\(child.stdout)\n\(child.stderr)")
        }
        return CLIResult(status: status, stdout: child.stdout, stderr: child.stderr)
    }

    func dvic(_ arguments: String..., environment: [String: String]? = nil, stdin: String? = nil) async throws -> CLIResult {
        try await dvic(arguments, environment: environment, stdin: stdin)
    }

    /// Starts `dvic` in the background.
    func start(_ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil) throws -> ChildProcess {
        try ChildProcess(executable: try DVICBinary.require(), arguments: arguments, environment: environment ?? self.environment, stdin: stdin)
    }

    func stop(_ agents: [SimulatedAgent] = []) async {
        for agent in agents { agent.disconnect() }
        await harness.stop()
        try? FileManager.default.removeItem(atPath: home)
        try? FileManager.default.removeItem(atPath: harness.dataDirectory)
    }
}

/// Polls until `condition` holds; false on timeout.
func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

let nowMilliseconds: Int64 = Int64(Date().timeIntervalSince1970 * 1000)

/// What `SimulatedAgent` sends for the usual figures.
enum SimulatedTelemetry {
    static let descriptors = [
        MetricDescriptor(id: 0, name: "cpu.total", unit: "%", scale: 1, kind: .gauge),
        MetricDescriptor(id: 1, name: "mem.used", unit: "B", scale: 0, kind: .gauge),
        MetricDescriptor(id: 2, name: "mem.total", unit: "B", scale: 0, kind: .gauge),
        MetricDescriptor(id: 3, name: "temp.cpu", unit: "C", scale: 1, kind: .gauge),
    ]

    /// Describes the metrics and sends one sample per value of `cpu`, a second apart
    /// ending now; returns the first sample's time.
    @discardableResult
    static func send(_ agent: SimulatedAgent, cpu: [Double], memoryUsed: Double = 1_073_741_824, memoryTotal: Double = 4_294_967_296, temperature: Double = 48.5) -> Int64 {
        agent.describe(descriptors)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for (index, value) in cpu.enumerated() {
            agent.send([.metricSample(MetricSample(timestamp: now - Int64(cpu.count - 1 - index) * 1000, values: [
                MetricValue(id: 0, value: value), MetricValue(id: 1, value: memoryUsed), MetricValue(id: 2, value: memoryTotal),
                MetricValue(id: 3, value: temperature),
            ]))])
        }
        return now - Int64(cpu.count - 1) * 1000
    }
}
