public import DVICProtocol

extension Commands {
    public struct LogsOptions: Sendable {
        public var node: String?
        public var stream: String?
        public var level: String?
        public var grep: String?
        public var since: String?
        public var limit: Int?
        public var follow: Bool
        public var json: Bool

        public init(node: String?, stream: String?, level: String?, grep: String?, since: String?, limit: Int?, follow: Bool, json: Bool) {
            self.node = node
            self.stream = stream
            self.level = level
            self.grep = grep
            self.since = since
            self.limit = limit
            self.follow = follow
            self.json = json
        }
    }

    public static func severity(_ text: String) throws(CLIError) -> Severity {
        let lowered = text.lowercased()
        if lowered == "warning" { return .warn }
        guard let severity = Severity.allCases.first(where: { $0.name == lowered }) else {
            throw .usage("--level must be one of trace, debug, info, warn, error, fatal, not '\(text)'")
        }
        return severity
    }

    /// `dvic logs`: stored history, oldest first; with `-f`, then the live stream.
    /// `--json` prints one JSON object per line (NDJSON), history and live alike.
    public static func logs(_ options: LogsOptions, client: FleetClient) async throws(CLIError) -> Int32 {
        let minimum = try options.level.map { text throws(CLIError) in try severity(text) }
        let since = try options.since.map { text throws(CLIError) in try TimeSpec.since(text) }
        if let limit = options.limit, limit <= 0 { throw .usage("--limit must be positive") }
        let nodes = try await client.nodes()
        let node = try options.node.map { query throws(CLIError) in try NodeResolver.require(query, in: nodes) }
        var formatter = LogFormatter(nodeNames: Dictionary(nodes.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first }))

        // Follow: subscribe first, so nothing written between the history and the
        // live part is missed; duplicates of the history are dropped below.
        var live: (stream: LiveStream, reader: LiveStreamReader)?
        var early: [Message] = []
        if options.follow {
            let stream = try await LiveStream.connect(settings: client.settings)
            var reader = LiveStreamReader(stream)
            early = try await reader.subscribe(Subscribe(
                subscriptionID: 1, kinds: 4, nodes: node.map { [$0.id] } ?? [], tags: [], metrics: [],
                minSeverity: minimum ?? .trace, text: options.grep ?? ""), on: stream)
            live = (stream, reader)
        }

        var query: [(String, String)] = []
        if let node { query.append(("node", node.id)) }
        if let stream = options.stream { query.append(("stream", stream)) }
        if let minimum { query.append(("level", minimum.name)) }
        if let grep = options.grep, !grep.isEmpty { query.append(("q", grep)) }
        if let since { query.append(("since", since)) }
        let limit = options.limit ?? (options.follow && since == nil ? 10 : 200)
        query.append(("limit", String(limit)))
        let history = Array(try await client.logs(query).reversed())

        var seen = Set<String>()
        formatter.fit(history)
        for entry in history {
            seen.insert("\(entry.node)\u{0}\(entry.stream)\u{0}\(entry.seq)")
            try emit(entry, json: options.json, formatter: &formatter)
        }
        guard let live else { return CLIExitCode.success.rawValue }
        var reader = live.reader

        func handle(_ message: Message, formatter: inout LogFormatter) throws(CLIError) {
            guard case .logEntries(let batch) = message else { return }
            if let wanted = options.stream, batch.streamKey != wanted { return }
            for record in batch.entries {
                let key = "\(batch.nodeID)\u{0}\(batch.streamKey)\u{0}\(record.seq)"
                if seen.contains(key) { continue }
                let entry = CLIModel.LogEntry(
                    node: batch.nodeID, stream: batch.streamKey, seq: Int64(clamping: record.seq), ts: HumanFormat.isoTime(record.timestamp),
                    level: record.severity.name, text: record.text)
                try emit(entry, json: options.json, formatter: &formatter)
            }
        }
        for message in early { try handle(message, formatter: &formatter) }
        while let message = try await reader.next() {
            try handle(message, formatter: &formatter)
        }
        await live.stream.close()
        throw .unreachable("the live stream ended")
    }

    private static func emit(_ entry: CLIModel.LogEntry, json: Bool, formatter: inout LogFormatter) throws(CLIError) {
        if json {
            Console.out(try Console.jsonLine(formatter.json(entry)))
        } else {
            Console.out(formatter.line(entry))
        }
    }
}
