internal import DVICServerCore

extension APIModel.Targets {
    /// The targets of a command or a rollout: `all`, else `tags`, else `nodes`.
    func commandTargets() throws(APIError) -> CommandTargets {
        if all == true { return .all }
        if let tags, !tags.isEmpty { return .tags(tags) }
        if let nodes, !nodes.isEmpty { return .nodes(nodes) }
        throw APIError.badRequest("targets must be {\"nodes\": [...]}, {\"tags\": [...]} or {\"all\": true}")
    }
}
