/// The JSON bodies of `/v1/installs` (Spec/openapi.yaml).
extension APIModel {
    public struct InstallRequest: Codable, Sendable {
        /// The target's address (IP or host name). `host` is accepted too.
        public var ip: String?
        public var host: String?
        public var port: Int?
        public var user: String
        public var password: String
        /// A node id or name, or "server" (the default).
        public var via: String?
        public var name: String?
        public var tags: [String]?
        /// Install under this directory on the target instead of /usr/local, /etc and /var/lib.
        public var prefix: String?
        public var timeoutSeconds: Int?
        /// Accept a host key that differs from the recorded one (the machine was reinstalled).
        public var replaceHostKey: Bool?
    }

    public struct InstallStep: Codable, Sendable {
        public var step: String
        public var message: String
        public var at: String
    }

    public struct InstallJob: Codable, Sendable {
        public var id: String
        public var state: String
        public var host: String
        public var port: Int
        public var user: String
        public var via: String
        public var name: String
        public var tags: [String]
        public var createdBy: String
        public var createdAt: String
        public var finishedAt: String?
        public var steps: [InstallStep]
        public var done: Int
        public var total: Int
        public var failure: String?
        public var message: String
        public var hostKey: String
        public var hostKeyFingerprint: String?
        public var nodeID: String?
    }

    public struct InstallList: Codable, Sendable {
        public var jobs: [InstallJob]
    }
}
