extension Commands {
    /// What `dvic enroll --json` prints.
    public struct EnrollmentCreated: Codable, Sendable, Hashable {
        public var token: String
        public var expiresAt: String
        public var installCommand: String
        public var agentCommand: String
    }

    /// `dvic enroll`: a one-time token for a new node and the line that installs it.
    public static func enroll(name: String?, tags: [String], ttl: String, json: Bool, client: FleetClient) async throws(CLIError) -> Int32 {
        let milliseconds = try TimeSpec.require(ttl, flag: "--ttl")
        let seconds = Int(milliseconds / 1000)
        guard seconds >= 1, seconds <= 30 * 86_400 else { throw .usage("--ttl must be between 1s and 30d") }
        let answer = try await client.enrollment(CLIModel.EnrollmentRequest(name: name, tags: tags.isEmpty ? nil : tags, ttlSeconds: seconds))
        let agentCommand = "dvic-agent --server \(client.settings.server) --enroll-token \(answer.token)"
            + (name.map { " --name \(shellQuoted($0))" } ?? "") + tags.map { " --tag \(shellQuoted($0))" }.joined()
        if json {
            try printJSON(EnrollmentCreated(token: answer.token, expiresAt: answer.expiresAt, installCommand: answer.installCommand, agentCommand: agentCommand))
            return CLIExitCode.success.rawValue
        }
        var lines = [
            "Enrollment token: \(answer.token)",
            "Expires:          \(HumanFormat.shortTime(answer.expiresAt)) UTC (one use)",
        ]
        if let name { lines.append("Name:             \(name)") }
        if !tags.isEmpty { lines.append("Tags:             \(tags.joined(separator: ", "))") }
        lines += [
            "",
            "Install and enroll a node (run on the node):",
            "  \(answer.installCommand)",
            "",
            "Or, where dvic-agent is already installed:",
            "  \(agentCommand)",
        ]
        print(lines.joined(separator: "\n"))
        return CLIExitCode.success.rawValue
    }

    /// `dvic device add NAME`: a microcontroller with its own token, and a keepalive
    /// it can copy.
    public static func deviceAdd(name: String, tags: [String], json: Bool, client: FleetClient) async throws(CLIError) -> Int32 {
        guard !name.isEmpty, name.utf8.count <= 128 else { throw .usage("the device name must be 1 to 128 bytes") }
        let answer = try await client.device(CLIModel.DeviceRequest(name: name, tags: tags.isEmpty ? nil : tags))
        let url = client.settings.server + "/v1/keepalive"
        let body = #"{"uptime_ms": 1000, "seq": 1, "metrics": {"temp_c": 41.5}, "logs": [{"level": "info", "msg": "booted"}]}"#
        let example = "curl -fsS -X POST \(url) -H 'Authorization: Bearer \(answer.token)' -H 'Content-Type: application/json' -d '\(body)'"
        if json {
            try printJSON(CLIModel.DeviceCreated(id: answer.id, name: name, token: answer.token, keepaliveURL: url, exampleCommand: example))
            return CLIExitCode.success.rawValue
        }
        print([
            "Device:       \(name) (\(answer.id))",
            "Device token: \(answer.token)",
            "              (shown once: put it in the device's firmware)",
            "",
            "Example keepalive (post one at least every 10 s; every field is optional):",
            "  \(example)",
        ].joined(separator: "\n"))
        return CLIExitCode.success.rawValue
    }

    /// Single quotes for a POSIX shell, when needed.
    static func shellQuoted(_ text: String) -> String {
        let safe = text.allSatisfy { $0.isLetter || $0.isNumber || "-_.,:/@=+".contains($0) }
        return safe && !text.isEmpty ? text : "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: #"'\''"#) + "'"
    }
}
