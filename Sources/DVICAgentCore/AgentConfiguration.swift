public import DVICProtocol

/// Everything the agent can be told: defaults, then an optional config file of `key = value`
/// lines, then command-line flags (`--key value` or `--key=value`), then what the server sends
/// (Spec/protocol.md 5.4) for the keys it may change.
///
/// Keys (file and flags alike): `server`, `enroll-token`, `state`, `log-dir`, `interval` (seconds,
/// or with `ms`/`s`), `name`, `tag` (repeatable; `tags` takes a comma list), `journald-units`
/// (comma list, empty for all, `-` for none), `log-files` (comma list), `spool-max-bytes`,
/// `commands-max-parallel`, `command-max-output-bytes`, `terminals-max`, `journalctl`,
/// `docker-socket`, `nvidia-smi`, `release-key`, `update-timeout`, `config` (flag only: the file,
/// default /etc/dvic/agent.conf).
public struct AgentConfiguration: Sendable, Hashable {
    public enum JournaldSelection: Sendable, Hashable {
        case all
        case none
        case units([String])
    }

    public static let defaultConfigFile = "/etc/dvic/agent.conf"

    public var serverURL: String?
    public var enrollToken: String?
    public var stateDirectory = "/var/lib/dvic"
    public var logDirectory = "/tmp"
    public var interval: Duration = .seconds(1)
    public var name: String?
    public var tags: [String] = []
    public var journald: JournaldSelection = .all
    public var logFiles: [String] = []
    public var spoolMaxBytes: Int64 = 64 << 20
    public var metricsRingCapacity = 300
    public var commandsMaxParallel = 4
    public var commandMaxOutputBytes = 1 << 20
    public var terminalsMax = 8
    public var journalctlPath = "journalctl"
    public var dockerSocketPath = "/var/run/docker.sock"
    public var nvidiaSMIPath = "nvidia-smi"
    public var containerPollInterval: Duration = .seconds(10)
    public var gpuPollInterval: Duration = .seconds(5)
    public var inventoryInterval: Duration = .seconds(300)
    /// Reads collectors from a fixture tree instead of / (tests).
    public var systemRoot = ""
    /// `fdatasync` the spool every second (tests turn it off).
    public var synchronizesSpool = true
    /// `release-key`: the release public key (base64 of the raw Ed25519 key) that agent builds
    /// offered by the server must be signed with; without it every update is refused.
    public var releaseKey: String?
    /// `update-timeout`: how long a new build has to reach the server, as a trial and after its
    /// restart, before the agent stays on (or goes back to) the old one.
    public var updateTimeout: Duration = .seconds(60)
    /// The executable and flags the agent was started with, set by `dvic-agent` itself (not a
    /// setting): self-update needs them, and an in-process agent has none.
    public var executablePath: String?
    public var launchArguments: [String] = []

    public init() {}

    /// Defaults, then the config file (`--config FILE`, else the default file when it exists),
    /// then the flags.
    public static func load(
        arguments: [String], readFile: ((String) -> String?)? = nil
    ) throws(AgentError) -> AgentConfiguration {
        let readFile = readFile ?? { FileSystem.readString($0) }
        let flags = try parseFlags(arguments)
        var configuration = AgentConfiguration()
        let explicit = flags.last { $0.key == "config" }?.value
        if let text = readFile(explicit ?? defaultConfigFile) {
            try configuration.apply(fileContents: text)
        } else if let explicit {
            throw .configuration("cannot read the config file \(explicit)")
        }
        if flags.contains(where: { $0.key == "tag" }) { configuration.tags = [] }
        for flag in flags where flag.key != "config" {
            try configuration.set(flag.key, flag.value)
        }
        return configuration
    }

    static func parseFlags(_ arguments: [String]) throws(AgentError) -> [(key: String, value: String)] {
        var flags: [(key: String, value: String)] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw .configuration("unexpected argument \(argument)") }
            let body = argument.dropFirst(2)
            if let equals = body.firstIndex(of: "=") {
                flags.append((String(body[..<equals]), String(body[body.index(after: equals)...])))
                index += 1
            } else {
                guard index + 1 < arguments.count else { throw .configuration("\(argument) needs a value") }
                flags.append((String(body), arguments[index + 1]))
                index += 2
            }
        }
        return flags
    }

    /// Applies a config file: `key = value` lines; `#` starts a comment line.
    public mutating func apply(fileContents text: String) throws(AgentError) {
        var fileTags: [String] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingASCIIWhitespace()
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw .configuration("config line \(number + 1) is not `key = value`")
            }
            let key = line[..<equals].trimmingASCIIWhitespace()
            var value = line[line.index(after: equals)...].trimmingASCIIWhitespace()
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = String(value.dropFirst().dropLast()) }
            if key == "tag" {
                fileTags.append(value)
            } else {
                try set(key, value)
            }
        }
        if !fileTags.isEmpty { tags = fileTags }
    }

    /// Sets one key (file or flag name).
    public mutating func set(_ key: String, _ value: String) throws(AgentError) {
        switch key {
        case "server": serverURL = value.isEmpty ? nil : value
        case "enroll-token": enrollToken = value.isEmpty ? nil : value
        case "state": stateDirectory = value
        case "log-dir": logDirectory = value
        case "interval":
            guard let parsed = Self.parseDuration(value), parsed > .zero else { throw .configuration("bad interval \(value)") }
            interval = parsed
        case "name": name = value.isEmpty ? nil : value
        case "tag": tags.append(value)
        case "tags": tags = Self.list(value)
        case "journald-units": journald = Self.journaldSelection(value)
        case "log-files": logFiles = Self.list(value)
        case "spool-max-bytes": spoolMaxBytes = try Self.integer(key, value)
        case "commands-max-parallel": commandsMaxParallel = Int(try Self.integer(key, value))
        case "command-max-output-bytes": commandMaxOutputBytes = Int(try Self.integer(key, value))
        case "terminals-max": terminalsMax = Int(try Self.integer(key, value))
        case "journalctl": journalctlPath = value
        case "docker-socket": dockerSocketPath = value
        case "nvidia-smi": nvidiaSMIPath = value
        case "release-key": releaseKey = value.isEmpty ? nil : value
        case "update-timeout":
            guard let parsed = Self.parseDuration(value), parsed > .zero else { throw .configuration("bad update-timeout \(value)") }
            updateTimeout = parsed
        default: throw .configuration("unknown setting \(key)")
        }
    }

    /// What a server setting changed.
    public struct ServerChanges: Sendable, Hashable {
        public var interval = false
        public var journald = false
        public var logFiles = false
        public var spool = false
        public var commands = false
    }

    /// Applies `welcome.config` or `configUpdate.config`. Unknown keys are ignored, and so is a
    /// value that does not parse (the current value stays).
    public mutating func apply(server config: [KeyValue]) -> ServerChanges {
        var changes = ServerChanges()
        for pair in config {
            switch pair.key {
            case "interval_ms":
                if let milliseconds = Int64(pair.value), milliseconds >= 100, milliseconds <= 3_600_000,
                    interval != .milliseconds(milliseconds)
                {
                    interval = .milliseconds(milliseconds)
                    changes.interval = true
                }
            case "journald.units":
                let selection = Self.journaldSelection(pair.value)
                if selection != journald {
                    journald = selection
                    changes.journald = true
                }
            case "log.files":
                let files = Self.list(pair.value)
                if files != logFiles {
                    logFiles = files
                    changes.logFiles = true
                }
            case "spool.max_bytes":
                if let bytes = Int64(pair.value), bytes >= 1 << 20, bytes != spoolMaxBytes {
                    spoolMaxBytes = bytes
                    changes.spool = true
                }
            case "commands.max_parallel":
                if let count = Int(pair.value), count >= 1, count <= 256, count != commandsMaxParallel {
                    commandsMaxParallel = count
                    changes.commands = true
                }
            default:
                continue
            }
        }
        return changes
    }

    /// `1`, `0.5`, `2s`, `500ms`.
    static func parseDuration(_ text: String) -> Duration? {
        if text.hasSuffix("ms"), let value = Double(text.dropLast(2)) { return .nanoseconds(Int64(value * 1e6)) }
        let number = text.hasSuffix("s") ? String(text.dropLast()) : text
        guard let seconds = Double(number), seconds.isFinite else { return nil }
        return .nanoseconds(Int64(seconds * 1e9))
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
    }

    static func journaldSelection(_ text: String) -> JournaldSelection {
        let trimmed = text.trimmingASCIIWhitespace()
        if trimmed.isEmpty { return .all }
        if trimmed == "-" { return .none }
        return .units(list(trimmed))
    }

    static func integer(_ key: String, _ value: String) throws(AgentError) -> Int64 {
        guard let number = Int64(value), number >= 0 else { throw .configuration("\(key) must be a whole number, not \(value)") }
        return number
    }
}
