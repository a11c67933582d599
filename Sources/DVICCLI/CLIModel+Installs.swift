/// The JSON of `/v1/installs` as the CLI reads it (Spec/openapi.yaml).
extension CLIModel {
    public struct InstallRequest: Codable, Sendable {
        public var ip: String
        public var port: Int
        public var user: String
        public var password: String
        public var via: String
        public var name: String?
        public var tags: [String]?
        public var prefix: String?
        public var timeoutSeconds: Int
        public var replaceHostKey: Bool
    }

    public struct InstallStep: Codable, Sendable, Hashable {
        public var step: String
        public var message: String
        public var at: String
    }

    public struct InstallJob: Codable, Sendable, Hashable {
        public var id: String
        public var state: String
        public var host: String
        public var port: Int
        public var user: String
        public var via: String
        public var name: String
        public var steps: [InstallStep]
        public var done: Int
        public var total: Int
        public var failure: String?
        public var message: String
        public var hostKey: String
        public var hostKeyFingerprint: String?
        public var nodeID: String?
    }
}
