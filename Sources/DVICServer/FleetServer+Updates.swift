internal import DVICServerCore
public import Hummingbird

extension APIModel.UpdateState: ResponseEncodable {}

extension FleetServer {
    /// `POST /v1/updates` (operator) starts a rollout; `GET /v1/updates/{id}` and
    /// `GET /v1/updates` (viewer) show it (Spec/updates.md).
    func addUpdateRoutes(_ router: Router<APIContext>) {
        router.post("/v1/updates") { request, context -> EditedResponse<APIModel.IDResponse> in
            let principal = try context.require(.operator)
            let body = try await request.decode(as: APIModel.UpdateRequest.self, context: context)
            let targets = try body.targets.commandTargets()
            do throws(UpdateRollouts.RolloutError) {
                let id = try await self.updates.start(
                    principal, targets: targets, version: body.version, batchSize: body.batchSize ?? 10, timeoutSeconds: body.timeoutSeconds ?? 120)
                return EditedResponse(status: .accepted, response: APIModel.IDResponse(id: id))
            } catch {
                switch error.code {
                case .noTargets: throw APIError(.notFound, "no_targets", error.message)
                case .noBuild: throw APIError(.notFound, "no_build", error.message)
                default: throw APIError.badRequest(error.message)
                }
            }
        }
        router.get("/v1/updates") { _, context -> [APIModel.UpdateState] in
            _ = try context.require(.viewer)
            return await self.updates.all().map(Self.updateState)
        }
        router.get("/v1/updates/{id}") { _, context -> APIModel.UpdateState in
            _ = try context.require(.viewer)
            let id = try context.parameters.require("id")
            guard let rollout = await self.updates.snapshot(id) else { throw APIError.notFound("update \(id)") }
            return Self.updateState(rollout)
        }
    }

    static func updateState(_ rollout: UpdateRolloutCore) -> APIModel.UpdateState {
        APIModel.UpdateState(
            id: rollout.id, state: rollout.state.rawValue, version: rollout.version, actor: rollout.actor,
            createdAt: APIModel.time(rollout.createdAt), batchSize: rollout.batchSize, batches: rollout.batchCount,
            currentBatch: max(0, rollout.currentBatch) + 1, done: rollout.doneCount, total: rollout.nodes.count, message: rollout.message,
            nodes: rollout.nodes.map {
                APIModel.UpdateNodeState(node: $0.nodeID, nodeName: $0.name, batch: $0.batch + 1, state: $0.phase.rawValue, message: $0.message, fromVersion: $0.fromVersion)
            })
    }
}
