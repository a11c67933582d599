public import DVICLogFormat

/// The JSON bodies of the REST API (Spec/openapi.yaml). Field names are the
/// contract's; times are RFC 3339 UTC strings with milliseconds.
public enum APIModel {
    public static func time(_ milliseconds: Int64) -> String { LogTimestamp.format(milliseconds) }

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
        /// The demo's log stream key, for `/v1/logs?stream=`.
        public var key: String
        public var changedAt: String
    }

    public struct NodeSummary: Codable, Sendable {
        public var id: String
        public var name: String
        public var kind: String
        public var status: String
        public var lastSeen: String?
        public var tags: [String]
        public var agentVersion: String
        public var demos: [Demo]
    }

    public struct Container: Codable, Sendable {
        public var id: String
        public var name: String
        public var image: String
        public var state: String
        public var cpuPermille: UInt64
        public var memoryBytes: UInt64
    }

    public struct NodeDetail: Codable, Sendable {
        public var id: String
        public var name: String
        public var kind: String
        public var status: String
        public var lastSeen: String?
        public var tags: [String]
        public var agentVersion: String
        public var demos: [Demo]
        public var inventory: [String: String]
        /// Latest value of every metric, by name.
        public var metrics: [String: Double]
        public var metricsAt: String?
        public var containers: [Container]
    }

    /// `{"name", "points": [[t, value], …]}`, t an RFC 3339 string.
    public struct MetricSeries: Encodable, Sendable {
        public var name: String
        public var step: Int64
        public var points: [(Int64, Double)]

        enum CodingKeys: String, CodingKey { case name, step, points }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(step, forKey: .step)
            var list = container.nestedUnkeyedContainer(forKey: .points)
            for (time, value) in points {
                var pair = list.nestedUnkeyedContainer()
                try pair.encode(APIModel.time(time))
                try pair.encode(value)
            }
        }
    }

    public struct LogEntry: Codable, Sendable {
        public var node: String
        public var stream: String
        public var seq: Int64
        public var ts: String
        public var level: String
        public var text: String
    }

    public struct LogsResponse: Codable, Sendable {
        public var entries: [LogEntry]
    }

    public struct Targets: Codable, Sendable {
        public var nodes: [String]?
        public var tags: [String]?
        public var all: Bool?
    }

    public struct CommandRequest: Codable, Sendable {
        public var targets: Targets
        public var command: String?
        public var argv: [String]?
        public var timeoutSeconds: Double?
    }

    public struct IDResponse: Codable, Sendable {
        public var id: String
    }

    public struct CommandResult: Codable, Sendable {
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
    }

    public struct CommandState: Codable, Sendable {
        public var id: String
        public var state: String
        public var command: String
        public var actor: String
        public var createdAt: String
        public var done: Int
        public var total: Int
        public var results: [CommandResult]
    }

    public struct EnrollmentRequest: Codable, Sendable {
        public var name: String?
        public var tags: [String]?
        public var ttlSeconds: Int?
    }

    public struct EnrollmentResponse: Codable, Sendable {
        public var token: String
        public var expiresAt: String
        public var installCommand: String
    }

    public struct EnrollRequest: Codable, Sendable {
        public var token: String
        /// The agent's Ed25519 public key, 32 bytes, base64.
        public var publicKey: String
        public var hostname: String?
        public var name: String?
        /// The agent's own `--tag`s, added to the enrollment's.
        public var tags: [String]?
    }

    public struct EnrollResponse: Codable, Sendable {
        public var nodeID: String
        public var name: String
    }

    public struct DeviceRequest: Codable, Sendable {
        public var name: String
        public var tags: [String]?
    }

    public struct DeviceResponse: Codable, Sendable {
        public var id: String
        public var token: String
    }

    public struct KeepaliveResponse: Codable, Sendable {
        public var ok: Bool
        public var interval_s: Int
    }

    public struct AuditEntry: Codable, Sendable {
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

    public struct UserRequest: Codable, Sendable {
        public var username: String
        public var password: String
        public var role: String
    }

    public struct User: Codable, Sendable {
        public var username: String
        public var role: String
        public var createdAt: String
    }

    public struct Health: Codable, Sendable {
        public var status: String
    }
}
