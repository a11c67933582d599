internal import DVICServerCore
public import Hummingbird
internal import NIOCore

extension APIModel.AgentBuildList: ResponseEncodable {}
extension APIModel.AgentBuildInfo: ResponseEncodable {}
extension APIModel.DownloadGrant: ResponseEncodable {}

extension FleetServer {
    /// Largest agent build accepted (the release binary is about 13 MB).
    static let maxAgentBuildBytes = 512 << 20

    /// `GET /v1/agent/download?token=` (the one-time token is the credential),
    /// `GET /v1/agent/builds` (viewer) and `POST /v1/agent/builds` (admin, the executable as
    /// the body, streamed to disk; `?signature=` the release key's signature in hex).
    func addAgentBuildRoutes(_ router: Router<APIContext>) {
        router.get("/v1/agent/download") { request, context -> Response in
            guard let token = request.uri.queryParameters.get("token"), !token.isEmpty else {
                throw APIError(.unauthorized, "download_token_unknown", "a download needs ?token= (one-time, from an install or an update)")
            }
            let build: AgentBuild
            switch await self.agentBuilds.redeem(token: token) {
            case .build(let found): build = found
            case .unknown: throw APIError(.unauthorized, "download_token_unknown", "unknown or already used download token")
            case .expired: throw APIError(.unauthorized, "download_token_expired", "the download token expired")
            case .missing(let version): throw APIError.notFound("agent build \(version)")
            }
            let body = try await FileIO().loadFile(path: build.path, context: context)
            return Response(status: .ok, headers: [.contentType: "application/octet-stream", .contentLength: "\(build.size)"], body: body)
        }

        // A one-time download link by hand (admin), e.g. to install a machine without the script.
        router.post("/v1/agent/downloads") { request, context -> EditedResponse<APIModel.DownloadGrant> in
            let principal = try context.require(.admin)
            let body = try await request.decode(as: APIModel.DownloadRequest.self, context: context)
            let ttl = body.ttlSeconds ?? 3600
            guard ttl >= 1, ttl <= 86_400 else { throw APIError.badRequest("ttlSeconds must be from 1 to 86400") }
            let found: AgentBuild?
            if let version = body.version, !version.isEmpty {
                found = await self.agentBuilds.build(version: version)
            } else {
                found = await self.agentBuilds.installBuild()
            }
            guard let build = found else {
                throw APIError(.notFound, "no_build", body.version.map { "no agent build \($0)" } ?? "no agent build: upload one, or put dvic-agent next to dvic-server")
            }
            let token = await self.agentBuilds.issueDownloadToken(version: build.version, ttl: .seconds(ttl))
            await self.audit.record(principal, action: "agent.download.grant", target: build.version, detail: ["ttlSeconds": "\(ttl)"])
            return EditedResponse(status: .created, response: APIModel.DownloadGrant(
                token: token, url: "/v1/agent/download?token=\(token)", version: build.version, sha256: build.sha256Hex, size: build.size,
                signed: build.isSigned, expiresAt: APIModel.time(self.clock.now() + Int64(ttl) * 1000)))
        }

        router.get("/v1/agent/builds") { _, context -> APIModel.AgentBuildList in
            _ = try context.require(.viewer)
            return APIModel.AgentBuildList(
                builds: await self.agentBuilds.list().map(APIModel.AgentBuildInfo.init),
                fallback: await self.agentBuilds.fallbackBuild().map(APIModel.AgentBuildInfo.init),
                releaseKey: self.agentBuilds.releasePublicKeyText)
        }

        router.post("/v1/agent/builds") { request, context -> EditedResponse<APIModel.AgentBuildInfo> in
            let principal = try context.require(.admin)
            let query = request.uri.queryParameters
            let incoming = try await self.agentBuilds.incomingPath()
            let measure = MeasuredUpload<RequestBody>.Measure()
            do {
                try await FileIO().writeFile(
                    contents: MeasuredUpload(base: request.body, limit: Self.maxAgentBuildBytes, measure: measure), path: incoming, context: context)
            } catch {
                await self.agentBuilds.discard(incoming)
                throw error
            }
            let measured = measure.result
            do throws(AgentBuilds.BuildError) {
                let build = try await self.agentBuilds.store(
                    incoming: incoming, sha256: measured.sha256, size: measured.size, stampedVersion: measured.version,
                    declaredVersion: query.get("version"), signatureHex: query.get("signature"), uploadedBy: principal.username)
                await self.audit.record(principal, action: "agent.build.upload", target: build.version, detail: ["sha256": build.sha256Hex, "size": "\(build.size)"])
                return EditedResponse(status: .created, response: APIModel.AgentBuildInfo(build))
            } catch {
                await self.audit.record(principal, action: "agent.build.refused", target: measured.version ?? "", detail: ["reason": error.message])
                switch error.code {
                case .conflict: throw APIError.conflict(error.message)
                case .io: throw APIError(.internalServerError, "internal", error.message)
                case .noReleaseKey: throw APIError(.conflict, "no_release_key", error.message)
                case .unsigned: throw APIError(.badRequest, "unsigned_build", error.message)
                case .badSignature: throw APIError(.badRequest, "bad_signature", error.message)
                default: throw APIError(.badRequest, "invalid_build", error.message)
                }
            }
        }
    }
}
