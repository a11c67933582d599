/// JSON bodies of the agent-build and update endpoints (Spec/openapi.yaml, Spec/updates.md).
extension APIModel {
    public struct AgentBuildInfo: Codable, Sendable {
        public var version: String
        public var sha256: String
        public var size: Int
        public var signed: Bool
        public var signature: String?
        public var uploadedAt: String?
        public var uploadedBy: String?

        init(_ build: AgentBuild) {
            version = build.version
            sha256 = build.sha256Hex
            size = build.size
            signed = build.isSigned
            signature = build.signatureHex
            uploadedAt = build.uploadedAt > 0 ? APIModel.time(build.uploadedAt) : nil
            uploadedBy = build.uploadedBy.isEmpty ? nil : build.uploadedBy
        }
    }

    public struct AgentBuildList: Codable, Sendable {
        /// Signed builds, newest first.
        public var builds: [AgentBuildInfo]
        /// The unsigned binary beside the server, which installs get while no signed build exists.
        public var fallback: AgentBuildInfo?
        /// Base64 of the raw release public key, as agents' `release-key`; nil without one.
        public var releaseKey: String?
    }

    public struct DownloadRequest: Codable, Sendable {
        /// Default: the build installs get (the newest signed one, else the fallback).
        public var version: String?
        /// Default 3600, at most 86400.
        public var ttlSeconds: Int?
    }

    public struct DownloadGrant: Codable, Sendable {
        public var token: String
        /// Server-relative: `/v1/agent/download?token=…`.
        public var url: String
        public var version: String
        public var sha256: String
        public var size: Int
        public var signed: Bool
        public var expiresAt: String
    }

    public struct UpdateRequest: Codable, Sendable {
        public var targets: Targets
        /// Default: the newest signed build.
        public var version: String?
        /// Nodes offered the build at once (default 10).
        public var batchSize: Int?
        /// Seconds a node has to come back with the new version (default 120).
        public var timeoutSeconds: Int?
    }

    public struct UpdateNodeState: Codable, Sendable {
        public var node: String
        public var nodeName: String
        public var batch: Int
        /// pending, offered, downloading, verified, installing, restarted, succeeded, failed, skipped.
        public var state: String
        public var message: String
        public var fromVersion: String
    }

    public struct UpdateState: Codable, Sendable {
        public var id: String
        /// running, succeeded, failed.
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
