/// Which server to talk to and with which token: `--server`/`--token` first, then
/// `DVIC_SERVER`/`DVIC_TOKEN`, then what `dvic login` saved. The saved token is used
/// only for the server it was issued by, so pointing `dvic` at another server never
/// sends it there.
public struct ConnectionSettings: Hashable, Sendable {
    /// `http(s)://host:port`, without a trailing slash.
    public var server: String
    public var token: String?

    public init(server: String, token: String?) {
        self.server = server
        self.token = token
    }

    public static func resolve(
        serverFlag: String?, tokenFlag: String?, environment: [String: String], config: CLIConfig
    ) throws(CLIError) -> ConnectionSettings {
        func nonEmpty(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
        let savedServer = try nonEmpty(config.server).map { text throws(CLIError) in try normalize(text) }
        guard let chosen = nonEmpty(serverFlag) ?? nonEmpty(environment["DVIC_SERVER"]) ?? savedServer else {
            throw .usage("no server: pass --server URL, set DVIC_SERVER, or run `dvic login --server URL`")
        }
        let server = try normalize(chosen)
        let savedToken = savedServer == server ? nonEmpty(config.token) : nil
        return ConnectionSettings(server: server, token: nonEmpty(tokenFlag) ?? nonEmpty(environment["DVIC_TOKEN"]) ?? savedToken)
    }

    /// `host:port` becomes `http://host:port`; a trailing slash goes.
    public static func normalize(_ text: String) throws(CLIError) -> String {
        var server = text.trimmingWhitespace()
        if !server.contains("://") { server = "http://" + server }
        while server.hasSuffix("/") { server.removeLast() }
        guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw .usage("the server must be an http:// or https:// URL, not '\(text)'")
        }
        let rest = server.drop { $0 != ":" }.dropFirst(3)
        guard !rest.isEmpty, !rest.contains(" ") else { throw .usage("'\(text)' is not a server URL like http://host:8080") }
        return server
    }

    /// The live stream's WebSocket URL.
    public var streamURL: String {
        if server.hasPrefix("https://") { return "wss://" + server.dropFirst(8) + "/v1/stream" }
        return "ws://" + server.dropFirst(7) + "/v1/stream"
    }

    public func requireToken() throws(CLIError) -> String {
        guard let token else {
            throw .auth("not logged in to \(server): run `dvic login --server \(server)`, or pass --token or set DVIC_TOKEN")
        }
        return token
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
