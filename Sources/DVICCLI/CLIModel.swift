/// The REST API's JSON bodies as `dvic` reads them (Spec/openapi.yaml), and as it
/// writes them back with `--json`: the server's field names, keys sorted. The CLI keeps
/// its own copies so that it does not link the server.
public enum CLIModel {
    public struct LoginRequest: Codable, Sendable {
        public var username: String
        public var password: String
    }

    public struct LoginResponse: Codable, Sendable {
        public var token: String
        public var role: String
    }

    public struct Demo: Codable, Sendable, Hashable {
        public var name: String
        public var pid: UInt32
        public var state: String

        public init(name: String, pid: UInt32, state: String) {
            self.name = name
            self.pid = pid
            self.state = state
        }
    }

    public struct NodeSummary: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var kind: String
        public var status: String
        public var lastSeen: String?
        public var tags: [String]
        public var agentVersion: String
        public var demos: [Demo]

        public init(id: String, name: String, kind: String = "agent", status: String = "online", lastSeen: String? = nil, tags: [String] = [], agentVersion: String = "", demos: [Demo] = []) {
            self.id = id
            self.name = name
            self.kind = kind
            self.status = status
            self.lastSeen = lastSeen
            self.tags = tags
            self.agentVersion = agentVersion
            self.demos = demos
        }
    }

    public struct Container: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var image: String
        public var state: String
        public var cpuPermille: UInt64
        public var memoryBytes: UInt64
    }

    public struct NodeDetail: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var kind: String
        public var status: String
        public var lastSeen: String?
        public var tags: [String]
        public var agentVersion: String
        public var demos: [Demo]
        public var inventory: [String: String]
        public var metrics: [String: Double]
        public var metricsAt: String?
        public var containers: [Container]

        public init(_ summary: NodeSummary, inventory: [String: String] = [:], metrics: [String: Double] = [:], metricsAt: String? = nil, containers: [Container] = []) {
            id = summary.id
            name = summary.name
            kind = summary.kind
            status = summary.status
            lastSeen = summary.lastSeen
            tags = summary.tags
            agentVersion = summary.agentVersion
            demos = summary.demos
            self.inventory = inventory
            self.metrics = metrics
            self.metricsAt = metricsAt
            self.containers = containers
        }

        public var summary: NodeSummary {
            NodeSummary(id: id, name: name, kind: kind, status: status, lastSeen: lastSeen, tags: tags, agentVersion: agentVersion, demos: demos)
        }
    }

    /// One `[t, value]` pair of a metric series, t an RFC 3339 string.
    public struct MetricPoint: Codable, Sendable, Hashable {
        public var time: String
        public var value: Double

        public init(time: String, value: Double) {
            self.time = time
            self.value = value
        }

        public init(from decoder: any Decoder) throws {
            var pair = try decoder.unkeyedContainer()
            time = try pair.decode(String.self)
            value = try pair.decode(Double.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var pair = encoder.unkeyedContainer()
            try pair.encode(time)
            try pair.encode(value)
        }
    }

    public struct MetricSeries: Codable, Sendable, Hashable {
        public var name: String
        public var step: Int64?
        public var points: [MetricPoint]
    }

    /// What `dvic metrics --json` prints: the series with the node it belongs to.
    public struct NodeMetricSeries: Codable, Sendable, Hashable {
        public var node: String
        public var nodeName: String
        public var name: String
        public var step: Int64?
        public var points: [MetricPoint]
    }

    public struct LogEntry: Codable, Sendable, Hashable {
        public var node: String
        public var stream: String
        public var seq: Int64
        public var ts: String
        public var level: String
        public var text: String
        /// Added by `dvic` for people and scripts; not in the server's answer.
        public var nodeName: String?

        public init(node: String, stream: String, seq: Int64, ts: String, level: String, text: String, nodeName: String? = nil) {
            self.node = node
            self.stream = stream
            self.seq = seq
            self.ts = ts
            self.level = level
            self.text = text
            self.nodeName = nodeName
        }
    }

    public struct LogsResponse: Codable, Sendable {
        public var entries: [LogEntry]
    }

    public struct Targets: Codable, Sendable, Hashable {
        public var nodes: [String]?
        public var tags: [String]?
        public var all: Bool?

        public init(nodes: [String]? = nil, tags: [String]? = nil, all: Bool? = nil) {
            self.nodes = nodes
            self.tags = tags
            self.all = all
        }
    }

    public struct CommandRequest: Codable, Sendable {
        public var targets: Targets
        public var command: String
        public var timeoutSeconds: Double
    }

    public struct IDResponse: Codable, Sendable {
        public var id: String
    }

    public struct CommandResult: Codable, Sendable, Hashable {
        public var node: String
        public var nodeName: String
        public var state: String
        public var exitCode: Int64?
        public var signal: UInt64?
        public var reason: String?
        public var stdout: String
        public var stderr: String
        public var durationMs: UInt64
        public var truncated: Bool

        public init(node: String, nodeName: String, state: String = "done", exitCode: Int64?, signal: UInt64? = nil, reason: String? = "exited", stdout: String = "", stderr: String = "", durationMs: UInt64 = 0, truncated: Bool = false) {
            self.node = node
            self.nodeName = nodeName
            self.state = state
            self.exitCode = exitCode
            self.signal = signal
            self.reason = reason
            self.stdout = stdout
            self.stderr = stderr
            self.durationMs = durationMs
            self.truncated = truncated
        }

        /// Finished with exit code 0.
        public var succeeded: Bool { state == "done" && exitCode == 0 }
    }

    public struct CommandState: Codable, Sendable, Hashable {
        public var id: String
        public var state: String
        public var command: String
        public var actor: String
        public var createdAt: String
        public var done: Int
        public var total: Int
        public var results: [CommandResult]

        public init(id: String, state: String, command: String = "", actor: String = "", createdAt: String = "", done: Int, total: Int, results: [CommandResult]) {
            self.id = id
            self.state = state
            self.command = command
            self.actor = actor
            self.createdAt = createdAt
            self.done = done
            self.total = total
            self.results = results
        }
    }

    public struct EnrollmentRequest: Codable, Sendable {
        public var name: String?
        public var tags: [String]?
        public var ttlSeconds: Int?
    }

    public struct EnrollmentResponse: Codable, Sendable, Hashable {
        public var token: String
        public var expiresAt: String
        public var installCommand: String
    }

    public struct DeviceRequest: Codable, Sendable {
        public var name: String
        public var tags: [String]?
    }

    public struct DeviceResponse: Codable, Sendable, Hashable {
        public var id: String
        public var token: String
    }

    /// What `dvic device add --json` prints.
    public struct DeviceCreated: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var token: String
        public var keepaliveURL: String
        public var exampleCommand: String
    }

    public struct AuditEntry: Codable, Sendable, Hashable {
        public var id: Int64
        public var at: String
        public var actor: String
        public var role: String
        public var action: String
        public var target: String
        public var detail: [String: String]
    }

    public struct AuditResponse: Codable, Sendable {
        public var entries: [AuditEntry]
    }

    /// `{"error": {"code", "message"}}`.
    public struct ErrorBody: Codable, Sendable {
        public struct Detail: Codable, Sendable {
            public var code: String?
            public var message: String?
        }
        public var error: Detail
    }
}
