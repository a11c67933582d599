/// The agent-build and update bodies (Spec/openapi.yaml, Spec/updates.md).
extension CLIModel {
    public struct AgentBuildInfo: Codable, Sendable, Hashable {
        public var version: String
        public var sha256: String
        public var size: Int
        public var signed: Bool
        public var signature: String?
        public var uploadedAt: String?
        public var uploadedBy: String?
    }

    public struct AgentBuildList: Codable, Sendable, Hashable {
        public var builds: [AgentBuildInfo]
        public var fallback: AgentBuildInfo?
        public var releaseKey: String?
    }

    public struct UpdateRequest: Codable, Sendable, Hashable {
        public var targets: Targets
        public var version: String?
        public var batchSize: Int?
        public var timeoutSeconds: Int?
    }

    public struct UpdateNodeState: Codable, Sendable, Hashable {
        public var node: String
        public var nodeName: String
        public var batch: Int
        public var state: String
        public var message: String
        public var fromVersion: String
    }

    public struct UpdateState: Codable, Sendable, Hashable {
        public var id: String
        public var state: String
        public var version: String
        public var actor: String
        public var createdAt: String
        public var batchSize: Int
        public var batches: Int
        public var currentBatch: Int
        public var done: Int
        public var total: Int
        public var message: String
        public var nodes: [UpdateNodeState]
    }
}
