internal import Foundation
#if canImport(FoundationNetworking)
internal import FoundationNetworking
#endif

extension FleetClient {
    /// `POST /v1/agent/builds?signature=&version=` with the executable as the body.
    public func uploadBuild(file: String, signatureHex: String, version: String?) async throws(CLIError) -> CLIModel.AgentBuildInfo {
        guard var components = URLComponents(string: settings.server + "/v1/agent/builds") else { throw .usage("bad server URL \(settings.server)") }
        components.queryItems = [URLQueryItem(name: "signature", value: signatureHex)] + (version.map { [URLQueryItem(name: "version", value: $0)] } ?? [])
        guard let url = components.url else { throw .usage("bad server URL \(settings.server)") }
        let body: Data
        do {
            body = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw .usage("cannot read \(file): \(error.localizedDescription)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        request.setValue("dvic", forHTTPHeaderField: "User-Agent")
        request.setValue("Bearer \(try settings.requireToken())", forHTTPHeaderField: "Authorization")
        request.httpBody = body
        let status: Int
        let data: Data
        do {
            let (answer, response) = try await Self.session.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw CLIError.server("not an HTTP answer from \(settings.server)") }
            (status, data) = (http.statusCode, answer)
        } catch let error as CLIError {
            throw error
        } catch {
            throw .unreachable("cannot reach \(settings.server): \(error.localizedDescription)")
        }
        guard status == 201 || status == 200 else { throw Self.failure(status: status, data: data, what: "the upload") }
        return try Self.decode(CLIModel.AgentBuildInfo.self, data, what: "the upload")
    }
}
