import DVICLogFormat
public import DVICProtocol

/// Follows every demo log file (`dvic_log_<token>`) of one directory: the log directory of the
/// host, or a container's /tmp seen through `/proc/<pid>/root/tmp`.
///
/// Each file is its own stream (`<keyPrefix><token>`). A call to `poll` lists the directory,
/// reads what is new in every file and checks whether the demos still run. It does blocking file
/// I/O and is meant to be called from one task (the agent's log loop), not shared.
public final class LogDirectoryWatcher {
    public struct Configuration: Sendable {
        public var directory: String
        /// `demo:` for the host, `container:<id>:` for a container.
        public var keyPrefix: String
        public var source: LogSource
        public var container: String
        public var maxLineBytes: Int
        /// Bytes read from one file per poll at most, so that a large backlog is read in steps
        /// and memory stays flat; `PollResult.more` says when to poll again at once.
        public var readBudget: Int

        public init(
            directory: String, keyPrefix: String = "demo:", source: LogSource = .demo, container: String = "",
            maxLineBytes: Int = 262_144, readBudget: Int = 1 << 20
        ) {
            self.directory = directory
            self.keyPrefix = keyPrefix
            self.source = source
            self.container = container
            self.maxLineBytes = maxLineBytes
            self.readBudget = readBudget
        }
    }

    public struct PollResult: Sendable {
        public var chunks: [LogChunk] = []
        /// Streams whose description changed (a header was read), to persist with the spool.
        public var updatedStreams: [LogStreamInfo] = []
        /// Streams whose file is gone and read to its end.
        public var goneKeys: [String] = []
        /// Some file has more to read than the budget allowed.
        public var more = false
        /// The demos' states changed; `processes` has the new list.
        public var processesChanged = false
    }

    public let configuration: Configuration
    /// Start times of the pids written in headers.
    public var probe: (Int32) -> ProcessStart?
    private let resume: (String) async -> SourceResume
    private var files: [String: FollowedFile] = [:]
    private var liveness = DemoLivenessCore()
    private var scratch: [UInt8] = []

    /// - Parameters:
    ///   - resume: where the stream of a key picks up (the spool's checkpoint), asked once per file.
    ///   - probe: the start of a process by the pid its header gives.
    public init(
        configuration: Configuration, resume: @escaping (String) async -> SourceResume,
        probe: @escaping (Int32) -> ProcessStart?
    ) {
        self.configuration = configuration
        self.resume = resume
        self.probe = probe
    }

    /// The keys of the files followed now.
    public var activeKeys: Set<String> {
        Set(files.values.filter { !$0.isGone }.map(\.info.key))
    }

    public func poll(now: Int64) async -> PollResult {
        var result = PollResult()
        let names = FileSystem.contentsOfDirectory(configuration.directory) ?? []
        var present: [String: FileStatus] = [:]
        for name in names {
            guard let token = LogFileName.token(fromFileName: name),
                let status = FileSystem.status("\(configuration.directory)/\(name)"), status.isRegularFile
            else { continue }
            present[String(token)] = status
        }
        for token in present.keys.sorted() where files[token] == nil {
            let key = configuration.keyPrefix + token
            let path = "\(configuration.directory)/\(LogFileName.fileName(token: token))"
            let info = LogStreamInfo(key: key, source: configuration.source, path: path, container: configuration.container)
            let position = await resume(key)
            files[token] = FollowedFile(
                path: path, info: info, format: .demo, resume: position, maxLineBytes: configuration.maxLineBytes)
        }
        // Files rotated by a library (`prev`) are read before the files that continue them.
        for token in orderedTokens() {
            let file = files[token]!
            let key = file.info.key
            let exited = liveness.state(of: key) == .exited
            let polled = file.poll(
                now: now, status: present[token], finishPartial: exited,
                budget: configuration.readBudget, scratch: &scratch)
            result.chunks += polled.chunks
            result.more = result.more || polled.more
            if polled.infoChanged {
                result.updatedStreams.append(file.info)
                if let header = file.header {
                    liveness.track(key: key, name: header.name, pid: header.pid, started: header.startedMilliseconds)
                }
            }
            if file.isGone {
                files[token] = nil
                liveness.untrack(key: key)
                result.goneKeys.append(key)
                result.processesChanged = true
            }
        }
        if liveness.evaluate(now: now, probe: probe) { result.processesChanged = true }
        // A finished demo's file is kept closed until it changes.
        for file in files.values where liveness.state(of: file.info.key) == .exited && !result.more {
            file.sleepIfIdle()
        }
        return result
    }

    /// The demos of this directory. A file that a rotation continued (another file names it in
    /// `prev`) is left out: its successor stands for the demo.
    public var processes: [DemoProcess] {
        let continued = Set(files.values.compactMap { $0.header?.prev })
        return liveness.processes.filter { process in
            !continued.contains(String(process.key.dropFirst(configuration.keyPrefix.count)))
        }
    }

    /// Tokens in reading order: a file before the one whose `prev` names it.
    private func orderedTokens() -> [String] {
        let tokens = files.keys.sorted()
        var successors: [String: String] = [:]
        for token in tokens {
            if let previous = files[token]?.header?.prev, files[previous] != nil { successors[token] = previous }
        }
        guard !successors.isEmpty else { return tokens }
        var ordered: [String] = []
        var placed = Set<String>()
        func place(_ token: String, depth: Int) {
            guard !placed.contains(token), depth < 64 else { return }
            if let previous = successors[token] { place(previous, depth: depth + 1) }
            if placed.insert(token).inserted { ordered.append(token) }
        }
        for token in tokens { place(token, depth: 0) }
        return ordered
    }
}
