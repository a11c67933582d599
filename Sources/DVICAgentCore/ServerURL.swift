/// The agent WebSocket URL of a server given as `http(s)://host:port` or `ws(s)://host:port`, with
/// or without a path: `ws(s)://host:port/v1/agent`.
public enum ServerURL {
    public static let agentPath = "/v1/agent"

    public static func agentWebSocketURL(_ server: String) throws(AgentError) -> String {
        let trimmed = server.trimmingASCIIWhitespace()
        guard let schemeEnd = trimmed.firstRange(of: "://") else {
            throw .configuration("server URL \(server) has no scheme (http://, https://, ws:// or wss://)")
        }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        let webSocketScheme: String
        switch scheme {
        case "http", "ws": webSocketScheme = "ws"
        case "https", "wss": webSocketScheme = "wss"
        default: throw .configuration("server URL \(server) has an unsupported scheme \(scheme)")
        }
        let rest = trimmed[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty else { throw .configuration("server URL \(server) has no host") }
        var path = String(rest.dropFirst(authority.count).prefix { $0 != "?" && $0 != "#" })
        while path.hasSuffix("/") { path.removeLast() }
        if !path.hasSuffix(agentPath) { path += agentPath }
        return "\(webSocketScheme)://\(authority)\(path)"
    }
}
