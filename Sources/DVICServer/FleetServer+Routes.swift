internal import DVICLogFormat
internal import DVICProtocol
internal import DVICServerCore
internal import DVICStore
public import Hummingbird
internal import Foundation

extension APIModel.LoginResponse: ResponseEncodable {}
extension APIModel.NodeSummary: ResponseEncodable {}
extension APIModel.NodeDetail: ResponseEncodable {}
extension APIModel.MetricSeries: ResponseEncodable {}
extension APIModel.LogsResponse: ResponseEncodable {}
extension APIModel.IDResponse: ResponseEncodable {}
extension APIModel.CommandState: ResponseEncodable {}
extension APIModel.EnrollmentResponse: ResponseEncodable {}
extension APIModel.EnrollResponse: ResponseEncodable {}
extension APIModel.DeviceResponse: ResponseEncodable {}
extension APIModel.KeepaliveResponse: ResponseEncodable {}
extension APIModel.AuditResponse: ResponseEncodable {}
extension APIModel.User: ResponseEncodable {}
extension APIModel.Health: ResponseEncodable {}

extension FleetServer {
    /// The REST API of Spec/openapi.yaml. Every `/v1` route states the role it needs.
    func makeRouter() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: BearerMiddleware(auth: auth))
        // Plain requests to the WebSocket endpoints (no upgrade, or refused).
        for path in ["/v1/agent", "/v1/stream"] {
            router.get(RouterPath(path)) { request, _ -> Response in
                if path == "/v1/stream", !Self.originAllowed(request.headers[.origin], host: request.head.authority, allowed: self.configuration.allowedOrigins) {
                    throw APIError.forbidden("WebSocket connections from origin \(request.headers[.origin] ?? "") are not allowed")
                }
                throw APIError(.upgradeRequired, "upgrade_required", "\(path) is a WebSocket endpoint (Spec/protocol.md)")
            }
        }

        router.get("/healthz") { _, _ in APIModel.Health(status: "ok") }
        router.get("/metrics") { _, _ in
            await self.refreshGauges()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: self.serverMetrics.exposition())))
        }
        addDashboardRoutes(router)

        // Sessions and users.
        router.post("/v1/login") { request, context in
            let body = try await request.decode(as: APIModel.LoginRequest.self, context: context)
            do throws(AuthService.AuthError) {
                let (token, principal) = try await self.auth.login(username: body.username, password: body.password)
                await self.audit.record(principal, action: "user.login", target: principal.username)
                return APIModel.LoginResponse(token: token, role: principal.role.rawValue)
            } catch {
                throw APIError(.init(code: error.httpStatus), error.name, error.message)
            }
        }
        router.post("/v1/logout") { request, context -> Response in
            _ = try context.require(.viewer)
            if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
                await self.auth.logout(token: String(header.dropFirst(7)))
            }
            return Response(status: .noContent)
        }
        router.get("/v1/me") { _, context in
            let principal = try context.require(.viewer)
            let created = (try? await self.store.user(named: principal.username))?.createdAt ?? 0
            return APIModel.User(username: principal.username, role: principal.role.rawValue, createdAt: APIModel.time(created))
        }
        router.get("/v1/users") { _, context -> [APIModel.User] in
            _ = try context.require(.admin)
            return await self.auth.users().map { APIModel.User(username: $0.username, role: $0.role, createdAt: APIModel.time($0.createdAt)) }
        }
        router.post("/v1/users") { request, context -> EditedResponse<APIModel.User> in
            let principal = try context.require(.admin)
            let body = try await request.decode(as: APIModel.UserRequest.self, context: context)
            guard let role = Role(rawValue: body.role) else { throw APIError.badRequest("role must be admin, operator or viewer") }
            do throws(AuthService.AuthError) {
                let user = try await self.auth.createUser(username: body.username, password: body.password, role: role)
                await self.audit.record(principal, action: "user.create", target: user.username, detail: ["role": role.rawValue])
                return EditedResponse(status: .created, response: APIModel.User(username: user.username, role: user.role, createdAt: APIModel.time(user.createdAt)))
            } catch {
                throw APIError(.init(code: error.httpStatus), error.name, error.message)
            }
        }

        addNodeRoutes(router)
        addLogRoutes(router)
        addCommandRoutes(router)
        addEnrollmentRoutes(router)
        addDeviceRoutes(router)
        addInstallRoutes(router)
        addAgentBuildRoutes(router)
        addUpdateRoutes(router)
        addLogCountRoutes(router)

        router.get("/v1/audit") { request, context in
            _ = try context.require(.operator)
            let query = request.uri.queryParameters
            let entries = try await self.audit.list(
                since: try Self.time(query.get("since"), now: self.clock.now()),
                until: try Self.time(query.get("until"), now: self.clock.now()),
                actor: query.get("actor"),
                limit: try Self.limit(query.get("limit"), default: 200))
            return APIModel.AuditResponse(entries: entries.map {
                APIModel.AuditEntry(id: $0.id, at: APIModel.time($0.at), actor: $0.actor, role: $0.role, action: $0.action, target: $0.target, detail: $0.detail)
            })
        }
        return router
    }

    // MARK: Nodes

    func summary(_ node: NodeInfo) -> APIModel.NodeSummary {
        APIModel.NodeSummary(
            id: node.id, name: node.name, kind: node.kind.name, status: node.state.name,
            lastSeen: node.lastSeen > 0 ? APIModel.time(node.lastSeen) : nil, tags: node.tags, agentVersion: node.agentVersion,
            demos: node.demos.map { APIModel.Demo(name: $0.name, pid: $0.pid, state: $0.state.name, key: $0.key, changedAt: APIModel.time($0.changedAt)) })
    }

    func addNodeRoutes(_ router: Router<APIContext>) {
        router.get("/v1/nodes") { request, context -> [APIModel.NodeSummary] in
            _ = try context.require(.viewer)
            let tag = request.uri.queryParameters.get("tag")
            let status = request.uri.queryParameters.get("status")
            return await self.registry.nodes()
                .filter { tag == nil || $0.tags.contains(tag!) }
                .filter { status == nil || $0.state.name == status }
                .map(self.summary)
        }
        router.get("/v1/nodes/{id}") { _, context in
            _ = try context.require(.viewer)
            let id = try context.parameters.require("id")
            guard let node = await self.registry.node(id) else { throw APIError.notFound("node \(id)") }
            let latest = await self.metrics.latest(nodeID: id)
            let base = self.summary(node)
            return APIModel.NodeDetail(
                id: base.id, name: base.name, kind: base.kind, status: base.status, lastSeen: base.lastSeen, tags: base.tags,
                agentVersion: base.agentVersion, demos: base.demos, inventory: node.inventory,
                metrics: latest?.values ?? [:], metricsAt: latest.map { APIModel.time($0.time) },
                containers: node.containers.map { APIModel.Container(id: $0.id, name: $0.name, image: $0.image, state: $0.state, cpuPermille: $0.cpuPermille, memoryBytes: $0.memoryBytes) })
        }
        router.delete("/v1/nodes/{id}") { _, context -> Response in
            let principal = try context.require(.admin)
            let id = try context.parameters.require("id")
            guard try await self.registry.remove(id) else { throw APIError.notFound("node \(id)") }
            await self.metrics.forget(nodeID: id)
            await self.logs.forget(nodeID: id)
            await self.auth.forgetDevice(nodeID: id)
            await self.audit.record(principal, action: "node.delete", target: id)
            return Response(status: .noContent)
        }
        router.get("/v1/nodes/{id}/metrics") { request, context -> Response in
            _ = try context.require(.viewer)
            let id = try context.parameters.require("id")
            guard await self.registry.node(id) != nil else { throw APIError.notFound("node \(id)") }
            let query = request.uri.queryParameters
            guard let name = query.get("name") else {
                // Without a name: the metric names this node has.
                let names = await self.metrics.names(nodeID: id)
                return try Self.json(["names": names])
            }
            let now = self.clock.now()
            let since = try Self.time(query.get("since"), now: now) ?? now - 300_000
            let until = try Self.time(query.get("until"), now: now) ?? now
            guard since <= until else { throw APIError.badRequest("since is after until") }
            let step = try Self.duration(query.get("step")) ?? 0
            let (points, effectiveStep) = try await self.metrics.query(nodeID: id, name: name, since: since, until: until, step: step)
            return try Self.json(APIModel.MetricSeries(name: name, step: effectiveStep, points: points))
        }
    }

    // MARK: Logs

    func addLogRoutes(_ router: Router<APIContext>) {
        router.get("/v1/logs") { request, context in
            _ = try context.require(.viewer)
            let query = request.uri.queryParameters
            let now = self.clock.now()
            var minLevel: Int?
            if let level = query.get("level") {
                guard let parsed = Severity.allCases.first(where: { $0.name == level.lowercased() || (level.lowercased() == "warning" && $0 == .warn) }) else {
                    throw APIError.badRequest("level must be one of trace, debug, info, warn, error, fatal")
                }
                minLevel = Int(parsed.rawValue)
            }
            let limit = try Self.limit(query.get("limit"), default: 200)
            let rows = try await self.logs.search(LogQuery(
                nodeIDs: query.getAll("node"), streamKeys: query.getAll("stream"), minLevel: minLevel,
                text: query.get("q").flatMap { $0.isEmpty ? nil : $0 },
                since: try Self.time(query.get("since"), now: now), until: try Self.time(query.get("until"), now: now),
                limit: min(limit, 10_000)))
            return APIModel.LogsResponse(entries: rows.map {
                APIModel.LogEntry(node: $0.nodeID, stream: $0.streamKey, seq: $0.seq, ts: APIModel.time($0.timestamp), level: Severity(rawValue: UInt8(clamping: $0.level))?.name ?? "info", text: $0.text)
            })
        }
    }

    // MARK: Commands

    func addCommandRoutes(_ router: Router<APIContext>) {
        router.post("/v1/commands") { request, context -> EditedResponse<APIModel.IDResponse> in
            let principal = try context.require(.operator)
            let body = try await request.decode(as: APIModel.CommandRequest.self, context: context)
            let targets = try body.targets.commandTargets()
            let seconds = body.timeoutSeconds ?? 30
            guard seconds > 0, seconds <= 86_400 else { throw APIError.badRequest("timeoutSeconds must be more than 0 and at most 86400") }
            let commandLine = body.command ?? ""
            let argv = commandLine.isEmpty ? (body.argv ?? []) : []
            guard !commandLine.isEmpty || !argv.isEmpty else { throw APIError.badRequest("command (or argv) is missing") }
            do throws(CommandDispatcher.CommandError) {
                let id = try await self.commands.run(principal, targets: targets, commandLine: commandLine, argv: argv.isEmpty ? nil : argv, timeoutMs: UInt64(seconds * 1000))
                return EditedResponse(status: .accepted, response: APIModel.IDResponse(id: id))
            } catch where error == .noTargets {
                throw APIError(.notFound, "no_targets", error.message)
            } catch {
                throw APIError.badRequest(error.message)
            }
        }
        router.get("/v1/commands/{id}") { _, context in
            _ = try context.require(.viewer)
            let id = try context.parameters.require("id")
            guard let command = await self.commands.snapshot(id) else { throw APIError.notFound("command \(id)") }
            return Self.commandState(command)
        }
        router.post("/v1/commands/{id}/cancel") { _, context -> Response in
            let principal = try context.require(.operator)
            let id = try context.parameters.require("id")
            do {
                try await self.commands.cancel(principal, id: id)
            } catch {
                throw APIError.notFound("running command \(id)")
            }
            return Response(status: .accepted)
        }
    }

    static func commandState(_ command: CommandDispatcherCore.Command) -> APIModel.CommandState {
        APIModel.CommandState(
            id: command.id, state: command.isDone ? "done" : "running", command: command.commandLine, actor: command.actor,
            createdAt: APIModel.time(command.createdAt), done: command.doneCount, total: command.order.count,
            results: command.order.compactMap { command.results[$0] }.map { result in
                APIModel.CommandResult(
                    node: result.nodeID, nodeName: result.nodeName, state: result.done ? "done" : "running",
                    exitCode: result.exitCode, signal: result.signal, reason: result.reason?.name,
                    stdout: String(decoding: result.stdout, as: UTF8.self), stderr: String(decoding: result.stderr, as: UTF8.self),
                    durationMs: result.durationMs, truncated: result.truncated)
            })
    }

    // MARK: Helpers

    static func json(_ value: some Encodable) throws -> Response {
        let data = try JSONEncoder().encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// RFC 3339, milliseconds since the epoch, or an age like `10m` (`s`, `m`, `h`, `d`) before now.
    static func time(_ text: String?, now: Int64) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        if let parsed = LogTimestamp.parseRFC3339(text) { return parsed }
        if let millis = Int64(text) { return millis }
        if let age = try? duration(text) { return now - age }
        throw APIError.badRequest("'\(text.prefix(40))' is not an RFC 3339 time, milliseconds, or an age like 10m")
    }

    /// A positive whole number no larger than 10,000, or the default when absent.
    static func limit(_ text: String?, default value: Int) throws -> Int {
        guard let text, !text.isEmpty else { return value }
        guard let limit = Int(text), limit > 0, limit <= 10_000 else { throw APIError.badRequest("limit must be a whole number from 1 to 10000") }
        return limit
    }

    /// `500ms`, `30s`, `10m`, `2h`, `1d`, or plain seconds; in milliseconds.
    static func duration(_ text: String?) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)), value >= 0, value < 1e9 { return Int64(value * Double(factor)) }
        }
        if let seconds = Double(text), seconds >= 0, seconds < 1e9 { return Int64(seconds * 1000) }
        throw APIError.badRequest("'\(text.prefix(40))' is not a duration like 30s, 10m or 2h")
    }
}
