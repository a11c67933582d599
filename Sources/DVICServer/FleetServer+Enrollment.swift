internal import DVICProtocol
internal import DVICServerCore
internal import DVICStore
internal import Hummingbird
internal import Foundation
internal import Prometheus
import Synchronization

extension FleetServer {
    /// `POST /v1/enrollments` (admin) makes a one-time token; `POST /v1/enroll`
    /// (the agent, with that token and a public key it made itself) makes a node.
    func addEnrollmentRoutes(_ router: Router<APIContext>) {
        router.post("/v1/enrollments") { request, context -> EditedResponse<APIModel.EnrollmentResponse> in
            let principal = try context.require(.admin)
            let body = try await request.decode(as: APIModel.EnrollmentRequest.self, context: context)
            let ttl = body.ttlSeconds ?? 3600
            guard ttl > 0, ttl <= 30 * 86_400 else { throw APIError.badRequest("ttlSeconds must be between 1 and 2592000") }
            let token = AuthService.newToken(prefix: "dve_")
            let now = self.clock.now()
            let record = EnrollmentRecord(
                tokenHash: AuthService.sha256(token), name: body.name ?? "", tags: body.tags ?? [], createdBy: principal.username,
                createdAt: now, expiresAt: now + Int64(ttl) * 1000)
            try await self.store.createEnrollment(record)
            await self.audit.record(principal, action: "enrollment.create", target: body.name ?? "", detail: ["ttlSeconds": "\(ttl)", "tags": (body.tags ?? []).joined(separator: ",")])
            return EditedResponse(status: .created, response: APIModel.EnrollmentResponse(
                token: token, expiresAt: APIModel.time(record.expiresAt),
                installCommand: "curl -fsSL \"\(self.publicURL(request))/install.sh?token=\(token)\" | sudo sh"))
        }

        router.post("/v1/enroll") { request, context -> EditedResponse<APIModel.EnrollResponse> in
            let body = try await request.decode(as: APIModel.EnrollRequest.self, context: context)
            guard let key = Data(base64Encoded: body.publicKey), key.count == 32 else {
                throw APIError.badRequest("publicKey must be a base64 Ed25519 public key of 32 bytes")
            }
            let nodeID = "n-" + AuthService.newToken(prefix: "").prefix(12).lowercased().filter { $0.isLetter || $0.isNumber }
            let enrollment: EnrollmentRecord
            do {
                enrollment = try await self.store.consumeEnrollment(tokenHash: AuthService.sha256(body.token), nodeID: nodeID, now: self.clock.now())
            } catch let error as StoreError {
                switch error.code {
                case .enrollmentUnknown: throw APIError(.unauthorized, "enrollment_unknown", "unknown enrollment token")
                case .enrollmentExpired: throw APIError(.unauthorized, "enrollment_expired", "the enrollment token expired")
                case .enrollmentAlreadyUsed: throw APIError(.conflict, "enrollment_used", "the enrollment token was already used")
                default: throw error
                }
            }
            let name = [enrollment.name, body.name ?? "", body.hostname ?? ""].first { !$0.isEmpty } ?? nodeID
            let now = self.clock.now()
            // Tags from the enrollment, plus the agent's own `--tag`s.
            var tags = enrollment.tags
            for tag in body.tags ?? [] where !tags.contains(tag) && !tag.isEmpty && tag.utf8.count <= 64 { tags.append(tag) }
            _ = try await self.registry.add(NodeRecord(
                id: nodeID, name: name, kind: "agent", tags: tags, publicKey: Array(key), createdAt: now, lastSeen: 0))
            await self.audit.record(Principal(username: enrollment.createdBy, role: .admin), action: "node.enroll", target: nodeID, detail: ["name": name])
            await self.installs.enrolled(tokenHash: enrollment.tokenHash, nodeID: nodeID)
            return EditedResponse(status: .created, response: APIModel.EnrollResponse(nodeID: nodeID, name: name))
        }
    }

    /// Microcontrollers: `POST /v1/devices` (admin) makes one with its own token;
    /// `POST /v1/keepalive` takes its JSON keepalives (Spec/protocol.md, section 11).
    func addDeviceRoutes(_ router: Router<APIContext>) {
        router.post("/v1/devices") { request, context -> EditedResponse<APIModel.DeviceResponse> in
            let principal = try context.require(.admin)
            let body = try await request.decode(as: APIModel.DeviceRequest.self, context: context)
            guard !body.name.isEmpty, body.name.utf8.count <= 128 else { throw APIError.badRequest("name must be 1 to 128 bytes") }
            let id = "d-" + AuthService.newToken(prefix: "").prefix(12).lowercased().filter { $0.isLetter || $0.isNumber }
            let token = AuthService.newToken(prefix: "dvd_")
            let now = self.clock.now()
            _ = try await self.registry.add(NodeRecord(
                id: id, name: body.name, kind: "device", tags: body.tags ?? [], deviceTokenHash: AuthService.sha256(token), createdAt: now, lastSeen: 0))
            await self.audit.record(principal, action: "device.create", target: id, detail: ["name": body.name])
            return EditedResponse(status: .created, response: APIModel.DeviceResponse(id: id, token: token))
        }

        router.post("/v1/keepalive") { request, context -> APIModel.KeepaliveResponse in
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
                let nodeID = await self.auth.device(token: String(header.dropFirst(7)))
            else {
                self.serverMetrics.keepalivesRefused.increment()
                throw APIError(.unauthorized, "unauthorized", "unknown device token")
            }
            let limit = self.configuration.limits.maxKeepaliveBytes
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: limit)
            } catch {
                self.serverMetrics.keepalivesRefused.increment()
                throw APIError.tooLarge("body exceeds \(limit) bytes")
            }
            let keepalive: Keepalive
            do throws(KeepaliveError) {
                keepalive = try Keepalive.decode(Array(body.readableBytesView))
            } catch {
                self.serverMetrics.keepalivesRefused.increment()
                throw APIError(.init(code: error.httpStatus), error.name, error.message)
            }
            await self.ingest(keepalive, nodeID: nodeID)
            self.serverMetrics.keepalives.increment()
            return APIModel.KeepaliveResponse(ok: true, interval_s: self.configuration.keepaliveIntervalSeconds)
        }
    }

    /// A keepalive goes through the same actors as an agent's frames.
    func ingest(_ keepalive: Keepalive, nodeID: String) async {
        let interval = configuration.keepaliveIntervalSeconds
        let tags = await registry.deviceSeen(nodeID, intervalSeconds: interval)
        // A device that resends the same keepalive (same seq, no reboot) must not store
        // its logs twice.
        let fresh = deviceSequences.withLock { sequences -> Bool in
            guard let seq = keepalive.seq else { return true }
            let previous = sequences[nodeID]
            let rebooted = previous.map { keepalive.uptimeMs != nil && keepalive.uptimeMs! < $0.uptime } ?? true
            guard rebooted || previous == nil || seq > previous!.seq else { return false }
            sequences[nodeID] = (seq, keepalive.uptimeMs ?? 0)
            return true
        }
        var names: [UInt32: String] = [:]
        var open: LogStreamOpen?
        for message in keepalive.messages(receivedAt: clock.now(), firstLogSeq: 1) {
            switch message {
            case .metricDescriptors(let descriptors):
                for descriptor in descriptors.descriptors { names[descriptor.id] = descriptor.name }
            case .metricSample(let sample):
                await metrics.record(nodeID: nodeID, nodeTags: tags, timestamp: sample.timestamp, values: sample.values.map { (names[$0.id] ?? "", $0.value) })
            case .logStreamOpen(let stream):
                open = stream
            case .logBatch(let batch) where fresh:
                if let open {
                    await logs.append(nodeID: nodeID, nodeTags: tags, open: open, records: batch.records)
                    // The 200 acknowledges the keepalive: its logs are durable first.
                    await logs.flushAll()
                }
            default:
                break
            }
        }
    }
}
