public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small JSON client for the REST API, for tests and the load test.
public struct APIClient: Sendable {
    public let baseURL: String
    public var token: String?

    public init(baseURL: String, token: String? = nil) {
        self.baseURL = baseURL
        self.token = token
    }

    public struct Reply: Sendable {
        public let status: Int
        public let body: Data
        public let contentType: String?

        public var json: Any? { try? JSONSerialization.jsonObject(with: body) }
        public var object: [String: Any] { (json as? [String: Any]) ?? [:] }
        public var array: [[String: Any]] { (json as? [[String: Any]]) ?? [] }
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The contract's error code, from `{"error": {"code"}}`.
        public var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    }

    public static func login(baseURL: String, username: String, password: String) async throws -> APIClient {
        let reply = try await APIClient(baseURL: baseURL).send("POST", "/v1/login", json: ["username": username, "password": password])
        guard reply.status == 200, let token = reply.object["token"] as? String else {
            throw HarnessError("login as \(username) failed: \(reply.status) \(reply.text)")
        }
        return APIClient(baseURL: baseURL, token: token)
    }

    public func send(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return Reply(status: http.statusCode, body: data, contentType: http.value(forHTTPHeaderField: "Content-Type"))
    }

    public func get(_ path: String) async throws -> Reply { try await send("GET", path) }
    public func post(_ path: String, _ json: Any) async throws -> Reply { try await send("POST", path, json: json) }
}
