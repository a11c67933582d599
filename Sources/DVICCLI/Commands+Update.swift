internal import Foundation

extension Commands {
    public struct UpdateOptions: Sendable {
        public var nodes: [String]
        public var tags: [String]
        public var all: Bool
        public var batch: Int
        public var version: String?
        public var timeoutSeconds: Int
        public var json: Bool

        public init(nodes: [String], tags: [String], all: Bool, batch: Int, version: String?, timeoutSeconds: Int, json: Bool) {
            self.nodes = nodes
            self.tags = tags
            self.all = all
            self.batch = batch
            self.version = version
            self.timeoutSeconds = timeoutSeconds
            self.json = json
        }

        public func validate() throws(CLIError) {
            let kinds = [!nodes.isEmpty, !tags.isEmpty, all].filter { $0 }.count
            guard kinds == 1 else { throw .usage("choose the targets with exactly one of --node N…, --tag T… or --all") }
            guard batch >= 1, batch <= 10_000 else { throw .usage("--batch must be from 1 to 10000") }
            guard timeoutSeconds >= 1, timeoutSeconds <= 86_400 else { throw .usage("--timeout must be from 1 to 86400 seconds") }
        }
    }

    /// `dvic update`: starts a rollout and follows it until it ends, redrawing a progress line
    /// on stderr (a terminal) or printing each node's outcome as it comes. Exit 0 when every
    /// batch succeeded, 1 when the rollout failed (it stops at the first failed batch).
    public static func update(_ options: UpdateOptions, client: FleetClient) async throws(CLIError) -> Int32 {
        try options.validate()
        let targets = try await resolveTargets(nodes: options.nodes, tags: options.tags, client: client)
        let id = try await client.post(
            CLIModel.IDResponse.self, "/v1/updates",
            CLIModel.UpdateRequest(targets: targets, version: options.version, batchSize: options.batch, timeoutSeconds: options.timeoutSeconds),
            what: "the update").id
        let showProgress = !options.json && Console.isTerminal(2)
        var printed: [String: String] = [:]
        var drawn = ""
        var state: CLIModel.UpdateState
        while true {
            state = try await client.get(CLIModel.UpdateState.self, "/v1/updates/\(FleetClient.pathComponent(id))", what: "update \(id)")
            if !options.json {
                // Each node's outcome once, as it settles.
                for node in state.nodes where ["succeeded", "failed", "skipped"].contains(node.state) && printed[node.node] != node.state {
                    printed[node.node] = node.state
                    if showProgress { Console.err("\r\u{1B}[K", newline: false) }
                    Console.out("\(node.nodeName): \(node.state)\(node.message.isEmpty ? "" : " — \(node.message)")")
                    drawn = ""
                }
                if showProgress {
                    let line = progressLine(state)
                    if line != drawn {
                        Console.err("\r\u{1B}[K" + line, newline: false)
                        drawn = line
                    }
                }
            }
            if state.state != "running" { break }
            try? await Task.sleep(for: .milliseconds(500))
        }
        if showProgress { Console.err("\r\u{1B}[K", newline: false) }
        if options.json {
            try printJSON(state)
        } else {
            Console.out("\(state.id): \(state.state): \(state.message)")
        }
        return state.state == "succeeded" ? 0 : CLIExitCode.commandFailed.rawValue
    }

    static func progressLine(_ state: CLIModel.UpdateState) -> String {
        let busy = state.nodes.filter { !["pending", "succeeded", "failed", "skipped"].contains($0.state) }
        let failed = state.nodes.count { $0.state == "failed" }
        var line = "\(state.id) → \(state.version): batch \(state.currentBatch)/\(state.batches), \(state.done)/\(state.total) done"
        if failed > 0 { line += ", \(failed) failed" }
        if let first = busy.first { line += " — \(first.nodeName): \(first.state)" + (busy.count > 1 ? " (+\(busy.count - 1))" : "") }
        return line
    }

    /// `dvic builds`: the signed builds, the fallback binary and the release key.
    public static func builds(json: Bool, client: FleetClient) async throws(CLIError) -> Int32 {
        let list = try await client.get(CLIModel.AgentBuildList.self, "/v1/agent/builds", what: "the agent builds")
        if json {
            try printJSON(list)
            return 0
        }
        var table = TextTable(["VERSION", "SIGNED", "SIZE", "SHA-256", "UPLOADED"])
        for build in list.builds {
            table.append([build.version, "yes", "\(build.size)", String(build.sha256.prefix(16)), build.uploadedAt ?? ""])
        }
        if let fallback = list.fallback {
            table.append([fallback.version, "no (fallback)", "\(fallback.size)", String(fallback.sha256.prefix(16)), ""])
        }
        print(table.render())
        print("release key: \(list.releaseKey ?? "none (start dvic-server with --release-key)")")
        return 0
    }

    /// `dvic builds upload FILE`: the signature from `FILE.sig` (tools/sign-agent) unless given.
    public static func uploadBuild(file: String, signature: String?, version: String?, json: Bool, client: FleetClient) async throws(CLIError) -> Int32 {
        let signatureText: String
        if let signature, signature.count == 128, signature.allSatisfy(\.isHexDigit) {
            signatureText = signature
        } else {
            let path = signature ?? file + ".sig"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw .usage("no signature: \(path) is missing; sign the build with tools/sign-agent sign KEY \(file)")
            }
            signatureText = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let build = try await client.uploadBuild(file: file, signatureHex: signatureText, version: version)
        if json {
            try printJSON(build)
        } else {
            print("uploaded \(build.version) (\(build.size) bytes, sha256 \(build.sha256))")
        }
        return 0
    }
}
