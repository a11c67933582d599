public import DVICProtocol
import Foundation

extension Commands {
    public struct NodeAddOptions: Sendable {
        public var ip: String
        public var port: Int
        public var user: String
        public var password: String
        public var via: String
        public var name: String?
        public var tags: [String]
        public var prefix: String?
        public var timeoutSeconds: Int
        public var replaceHostKey: Bool
        public var json: Bool

        public init(
            ip: String, port: Int, user: String, password: String, via: String, name: String?, tags: [String], prefix: String?,
            timeoutSeconds: Int, replaceHostKey: Bool, json: Bool
        ) {
            self.ip = ip
            self.port = port
            self.user = user
            self.password = password
            self.via = via
            self.name = name
            self.tags = tags
            self.prefix = prefix
            self.timeoutSeconds = timeoutSeconds
            self.replaceHostKey = replaceHostKey
            self.json = json
        }
    }

    /// Reads the password given with `--password-stdin`: the first line of stdin, without its
    /// newline. Never from an argument, where `ps` and shell history would show it.
    public static func readPasswordLine() throws(CLIError) -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw .usage("--password-stdin: no password on stdin (pipe it in, e.g. `dvic node add … --password-stdin < file`)")
        }
        return line
    }

    /// `dvic node add`: installs the agent on a machine over SSH, from a source node or the
    /// server, and follows the job until the node is online or the job fails.
    public static func nodeAdd(_ options: NodeAddOptions, client: FleetClient) async throws(CLIError) -> Int32 {
        guard !options.ip.isEmpty else { throw .usage("--ip is required") }
        guard (1...65535).contains(options.port) else { throw .usage("--port must be between 1 and 65535") }
        var via = options.via
        if via != "server" {
            via = try NodeResolver.require(via, in: try await client.nodes()).id
        }
        // The stream first, so that no step is missed; polling carries the details (and is all
        // there is without the stream).
        let live = await LiveStream.subscribed(settings: client.settings, Subscribe(
            subscriptionID: 1, kinds: 32, nodes: [], tags: [], metrics: [], minSeverity: .trace, text: ""))

        let job = try await client.post(CLIModel.InstallJob.self, "/v1/installs", CLIModel.InstallRequest(
            ip: options.ip, port: options.port, user: options.user, password: options.password, via: via, name: options.name,
            tags: options.tags.isEmpty ? nil : options.tags, prefix: options.prefix, timeoutSeconds: options.timeoutSeconds,
            replaceHostKey: options.replaceHostKey), what: "starting the install")
        if !options.json {
            Console.err("Installing on \(options.user)@\(options.ip):\(options.port) via \(options.via) (job \(job.id))")
        }
        let wake = Shared(0)
        let final: CLIModel.InstallJob? = try await withThrowingTaskGroupCLI { group in
            if let live {
                group.addTask {
                    var reader = LiveStreamReader(live)
                    while let message = try? await reader.next() {
                        if case .jobProgress(let progress) = message, progress.jobID == job.id { wake.withLock { $0 += 1 } }
                    }
                    return nil
                }
            }
            group.addTask {
                var view = InstallProgressView()
                var seen = -1
                var lastPoll = ContinuousClock.now - .seconds(10)
                let deadline = ContinuousClock.now + .seconds(options.timeoutSeconds + 30)
                while ContinuousClock.now < deadline {
                    let events = wake.withLock { $0 }
                    if events != seen || ContinuousClock.now - lastPoll >= .seconds(1) {
                        seen = events
                        lastPoll = ContinuousClock.now
                        let state = try await client.get(CLIModel.InstallJob.self, "/v1/installs/\(FleetClient.pathComponent(job.id))", what: "install \(job.id)")
                        if !options.json { for line in view.lines(for: state) { Console.err(line) } }
                        if state.state != "running" { return state }
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return nil
            }
            // The poller decides; the others end with it.
            return try await group.firstAnswer()
        }
        if let live { await live.close() }
        guard let final else { throw .server("install \(job.id) did not finish in time; see GET /v1/installs/\(job.id)") }
        if options.json {
            try printJSON(final)
        } else {
            if let fingerprint = final.hostKeyFingerprint { Console.err("Host key: \(fingerprint) (recorded)") }
            Console.out(InstallProgressView.verdict(final))
        }
        return final.state == "succeeded" ? CLIExitCode.success.rawValue : CLIExitCode.commandFailed.rawValue
    }
}
