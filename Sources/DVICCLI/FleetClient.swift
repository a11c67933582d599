internal import Foundation
#if canImport(FoundationNetworking)
internal import FoundationNetworking
#endif

/// The REST API (Spec/openapi.yaml) for the commands: JSON in and out, every failure
/// turned into a `CLIError` of the right kind.
public struct FleetClient: Sendable {
    public let settings: ConnectionSettings

    public init(settings: ConnectionSettings) {
        self.settings = settings
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.timeoutIntervalForResource = 120
        configuration.httpShouldSetCookies = false
        return URLSession(configuration: configuration)
    }()

    // MARK: Calls

    public func login(username: String, password: String) async throws(CLIError) -> CLIModel.LoginResponse {
        let body = try Self.encode(CLIModel.LoginRequest(username: username, password: password))
        let (status, data) = try await send("POST", "/v1/login", body: body, authenticated: false)
        guard status == 200 else {
            if status == 401 || status == 403 { throw .auth("login refused: wrong user name or password") }
            throw Self.failure(status: status, data: data, what: "login")
        }
        return try Self.decode(CLIModel.LoginResponse.self, data, what: "login")
    }

    public func logout() async throws(CLIError) {
        let (status, data) = try await send("POST", "/v1/logout")
        guard (200..<300).contains(status) || status == 401 else { throw Self.failure(status: status, data: data, what: "logout") }
    }

    public func nodes(tag: String? = nil, status: String? = nil) async throws(CLIError) -> [CLIModel.NodeSummary] {
        var query: [(String, String)] = []
        if let tag { query.append(("tag", tag)) }
        if let status { query.append(("status", status)) }
        return try await get([CLIModel.NodeSummary].self, "/v1/nodes", query: query, what: "listing nodes")
    }

    public func node(_ id: String) async throws(CLIError) -> CLIModel.NodeDetail {
        try await get(CLIModel.NodeDetail.self, "/v1/nodes/\(Self.pathComponent(id))", what: "node \(id)")
    }

    /// The details of many nodes, a few requests at a time; nodes that vanished in
    /// between are left out.
    public func details(_ ids: [String], parallel: Int = 8) async throws(CLIError) -> [String: CLIModel.NodeDetail] {
        do {
            return try await withThrowingTaskGroup(of: (String, CLIModel.NodeDetail?).self) { group in
                var result: [String: CLIModel.NodeDetail] = [:]
                var pending = ids[...]
                func addNext() {
                    guard let id = pending.popFirst() else { return }
                    group.addTask {
                        do throws(CLIError) {
                            return (id, try await self.node(id))
                        } catch where error.exitCode == .notFound {
                            return (id, nil)
                        }
                    }
                }
                for _ in 0..<parallel { addNext() }
                while let (id, detail) = try await group.next() {
                    if let detail { result[id] = detail }
                    addNext()
                }
                return result
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw .server("\(error)")
        }
    }

    public func metrics(node: String, name: String, since: String?, step: String?) async throws(CLIError) -> CLIModel.MetricSeries {
        var query = [("name", name)]
        if let since { query.append(("since", since)) }
        if let step { query.append(("step", step)) }
        return try await get(CLIModel.MetricSeries.self, "/v1/nodes/\(Self.pathComponent(node))/metrics", query: query, what: "metric \(name)")
    }

    /// The metric names a node has.
    public func metricNames(node: String) async throws(CLIError) -> [String] {
        struct Names: Decodable { var names: [String] }
        return try await get(Names.self, "/v1/nodes/\(Self.pathComponent(node))/metrics", what: "metric names").names
    }

    public func logs(_ query: [(String, String)]) async throws(CLIError) -> [CLIModel.LogEntry] {
        try await get(CLIModel.LogsResponse.self, "/v1/logs", query: query, what: "logs").entries
    }

    public func runCommand(_ request: CLIModel.CommandRequest) async throws(CLIError) -> String {
        try await post(CLIModel.IDResponse.self, "/v1/commands", request, what: "starting the command").id
    }

    public func command(_ id: String) async throws(CLIError) -> CLIModel.CommandState {
        try await get(CLIModel.CommandState.self, "/v1/commands/\(Self.pathComponent(id))", what: "command \(id)")
    }

    public func enrollment(_ request: CLIModel.EnrollmentRequest) async throws(CLIError) -> CLIModel.EnrollmentResponse {
        try await post(CLIModel.EnrollmentResponse.self, "/v1/enrollments", request, what: "creating the enrollment")
    }

    public func device(_ request: CLIModel.DeviceRequest) async throws(CLIError) -> CLIModel.DeviceResponse {
        try await post(CLIModel.DeviceResponse.self, "/v1/devices", request, what: "creating the device")
    }

    public func audit(_ query: [(String, String)]) async throws(CLIError) -> [CLIModel.AuditEntry] {
        try await get(CLIModel.AuditResponse.self, "/v1/audit", query: query, what: "the audit log").entries
    }

    // MARK: Plumbing

    public func get<T: Decodable>(_ type: T.Type, _ path: String, query: [(String, String)] = [], what: String) async throws(CLIError) -> T {
        let (status, data) = try await send("GET", path, query: query)
        guard status == 200 else { throw Self.failure(status: status, data: data, what: what) }
        return try Self.decode(type, data, what: what)
    }

    public func post<T: Decodable>(_ type: T.Type, _ path: String, _ body: some Encodable, what: String) async throws(CLIError) -> T {
        let (status, data) = try await send("POST", path, body: try Self.encode(body))
        guard (200..<300).contains(status) else { throw Self.failure(status: status, data: data, what: what) }
        return try Self.decode(type, data, what: what)
    }

    /// One request; transport failures are `unreachable`, a missing token `auth`.
    func send(_ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil, authenticated: Bool = true) async throws(CLIError) -> (Int, Data) {
        guard var components = URLComponents(string: settings.server + path) else { throw .usage("bad server URL \(settings.server)") }
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        // `+` is a space in a query for most servers; keep it literal.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = components.url else { throw .usage("bad server URL \(settings.server)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("dvic", forHTTPHeaderField: "User-Agent")
        if authenticated { request.setValue("Bearer \(try settings.requireToken())", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        do {
            let (data, response) = try await Self.session.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw CLIError.server("not an HTTP answer from \(settings.server)") }
            return (http.statusCode, data)
        } catch let error as CLIError {
            throw error
        } catch let error as URLError {
            throw .unreachable("cannot reach \(settings.server): \(Self.describe(error))")
        } catch {
            throw .unreachable("cannot reach \(settings.server): \(error.localizedDescription)")
        }
    }

    static func describe(_ error: URLError) -> String {
        switch error.code {
        case .cannotConnectToHost: "connection refused"
        case .cannotFindHost, .dnsLookupFailed: "unknown host"
        case .timedOut: "timed out"
        case .networkConnectionLost: "the connection was lost"
        case .notConnectedToInternet: "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            "TLS failed (\(error.localizedDescription))"
        default: error.localizedDescription
        }
    }

    static func failure(status: Int, data: Data, what: String) -> CLIError {
        let body = try? JSONDecoder().decode(CLIModel.ErrorBody.self, from: data)
        return .http(status: status, code: body?.error.code, message: body?.error.message, what: what)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws(CLIError) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .server("unexpected answer for \(what): \(error)")
        }
    }

    static func encode(_ value: some Encodable) throws(CLIError) -> Data {
        do {
            return try JSONEncoder().encode(value)
        } catch {
            throw .usage("cannot encode the request: \(error)")
        }
    }

    public static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
    }
}
