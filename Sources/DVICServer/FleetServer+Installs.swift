internal import DVICInstall
internal import DVICServerCore
internal import DVICProtocol
internal import DVICStore
public import Hummingbird
internal import Foundation
internal import NIOCore

extension APIModel.InstallJob: ResponseEncodable {}
extension APIModel.InstallList: ResponseEncodable {}

extension FleetServer {
    /// `GET /install.sh?token=` (the one-liner's script, Spec/install.md) and the SSH installs
    /// `POST /v1/installs`, `GET /v1/installs`, `GET /v1/installs/{id}` (admin: they make nodes).
    func addInstallRoutes(_ router: Router<APIContext>) {
        router.get("/install.sh") { request, _ -> Response in
            try await self.installScript(request)
        }

        router.post("/v1/installs") { request, context -> EditedResponse<APIModel.InstallJob> in
            let principal = try context.require(.admin)
            let body = try await request.decode(as: APIModel.InstallRequest.self, context: context)
            let host = (body.ip ?? body.host ?? "").trimmingCharacters(in: .whitespaces)
            guard !host.isEmpty, host.utf8.count <= 255, !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "@" }) else {
                throw APIError.badRequest("ip must be an IP address or host name")
            }
            let port = body.port ?? 22
            guard (1...65535).contains(port) else { throw APIError.badRequest("port must be between 1 and 65535") }
            guard !body.user.isEmpty, body.user.utf8.count <= 64, !body.user.contains(where: { $0.isWhitespace }) else {
                throw APIError.badRequest("user must be 1 to 64 bytes without spaces")
            }
            guard !body.password.isEmpty, body.password.utf8.count <= 1024, !body.password.contains("\n") else {
                throw APIError.badRequest("password must be 1 to 1024 bytes on one line")
            }
            let timeout = body.timeoutSeconds ?? 300
            guard (10...3600).contains(timeout) else { throw APIError.badRequest("timeoutSeconds must be between 10 and 3600") }
            if let prefix = body.prefix, !prefix.hasPrefix("/") || prefix.utf8.count > 512 {
                throw APIError.badRequest("prefix must be an absolute path")
            }
            var via = body.via ?? "server"
            if via != "server" {
                let nodes = await self.registry.nodes()
                guard let node = nodes.first(where: { $0.id == via }) ?? nodes.first(where: { $0.name == via }) else {
                    throw APIError.badRequest("via: no node named \(via) (give a node id or name, or \"server\")")
                }
                via = node.id
            }
            let tags = body.tags ?? []
            guard tags.count <= 32, tags.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 64 }) else {
                throw APIError.badRequest("tags: at most 32, each 1 to 64 bytes")
            }
            let job = try await self.installs.start(InstallCoordinator.Request(
                host: host, port: port, user: body.user, password: body.password, via: via, name: body.name ?? "", tags: tags,
                prefix: body.prefix, timeoutSeconds: timeout, replaceHostKey: body.replaceHostKey ?? false,
                serverURL: self.publicURL(request)), by: principal)
            return EditedResponse(status: .accepted, response: Self.installJob(job))
        }

        router.get("/v1/installs") { _, context -> APIModel.InstallList in
            _ = try context.require(.admin)
            return APIModel.InstallList(jobs: await self.installs.jobs().map(Self.installJob))
        }

        router.get("/v1/installs/{id}") { _, context -> APIModel.InstallJob in
            _ = try context.require(.admin)
            let id = try context.parameters.require("id")
            guard let job = await self.installs.job(id) else { throw APIError.notFound("install job \(id)") }
            return Self.installJob(job)
        }
    }

    /// The server's address as a machine of the lab reaches it: `--public-url`, else the address
    /// the request came to.
    func publicURL(_ request: Request) -> String {
        if let url = configuration.publicURL, !url.isEmpty { return url.hasSuffix("/") ? String(url.dropLast()) : url }
        let scheme = configuration.tlsCertificate == nil ? "http" : "https"
        return "\(scheme)://\(request.head.authority ?? "localhost:\(configuration.port)")"
    }

    static func installJob(_ job: InstallJobsCore.Job) -> APIModel.InstallJob {
        APIModel.InstallJob(
            id: job.id, state: job.state == .running ? "running" : job.state == .succeeded ? "succeeded" : "failed",
            host: job.host, port: job.port, user: job.user, via: job.via, name: job.name, tags: job.tags, createdBy: job.createdBy,
            createdAt: APIModel.time(job.createdAt), finishedAt: job.finishedAt.map(APIModel.time),
            steps: job.steps.map { APIModel.InstallStep(step: $0.name, message: $0.message, at: APIModel.time($0.at)) },
            done: job.done, total: InstallJobsCore.plan.count, failure: job.failure, message: job.message, hostKey: job.hostKey,
            hostKeyFingerprint: job.hostKey.isEmpty ? nil : HostKeyFingerprint.sha256(openSSHKey: job.hostKey), nodeID: job.nodeID)
    }

    /// Renders the install script for a valid enrollment token. Errors are the API's JSON errors:
    /// the one-liner's `curl -f` stops on the status, so no error page is ever fed to `sh`.
    func installScript(_ request: Request) async throws -> Response {
        guard let token = request.uri.queryParameters.get("token"), !token.isEmpty, token.utf8.count <= 128 else {
            throw APIError.badRequest("the URL needs ?token=ENROLLMENT_TOKEN (create one with dvic enroll or the dashboard)")
        }
        guard let enrollment = try await store.enrollment(tokenHash: AuthService.sha256(token)) else {
            throw APIError(.unauthorized, "enrollment_unknown", "unknown enrollment token; create a new one with dvic enroll")
        }
        // A used token still renders until it expires, so that running the one-liner twice
        // reinstalls; the enrolled node keeps its key and ignores the token.
        guard enrollment.expiresAt > clock.now() else {
            throw APIError(.gone, "enrollment_expired", "the enrollment token expired; create a new one with dvic enroll")
        }
        guard let build = await agentBuilds.installBuild() else {
            throw APIError(.serviceUnavailable, "no_agent_build", "this server has no agent build to install (start dvic-server next to a dvic-agent binary, or upload a build)")
        }
        let downloadToken = await agentBuilds.issueDownloadToken(version: build.version, ttl: .seconds(900))
        let base = publicURL(request)
        let script = InstallScript.render(InstallScript.Parameters(
            serverURL: base, enrollToken: token, downloadURL: "\(base)/v1/agent/download?token=\(downloadToken)",
            sha256Hex: build.sha256Hex, version: build.version, releaseKey: agentBuilds.releasePublicKeyText))
        return Response(status: .ok, headers: [.contentType: "text/x-shellscript; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: script)))
    }
}
