/// Finds the node a person means: an exact id, then an exact name, then a unique id
/// prefix, then a unique name prefix. Several candidates are an error that lists them.
public enum NodeResolver {
    public enum Resolution: Hashable, Sendable {
        case found(CLIModel.NodeSummary)
        case notFound
        case ambiguous([CLIModel.NodeSummary])
    }

    public static func resolve(_ query: String, in nodes: [CLIModel.NodeSummary]) -> Resolution {
        if let node = nodes.first(where: { $0.id == query }) { return .found(node) }
        let steps: [(CLIModel.NodeSummary) -> Bool] = [
            { $0.name == query },
            { $0.name.lowercased() == query.lowercased() },
            { $0.id.hasPrefix(query) },
            { $0.name.lowercased().hasPrefix(query.lowercased()) },
        ]
        for matches in steps {
            let found = nodes.filter(matches)
            if found.count == 1 { return .found(found[0]) }
            if found.count > 1 { return .ambiguous(found.sorted { ($0.name, $0.id) < ($1.name, $1.id) }) }
        }
        return .notFound
    }

    /// The node, or the error to print.
    public static func require(_ query: String, in nodes: [CLIModel.NodeSummary]) throws(CLIError) -> CLIModel.NodeSummary {
        switch resolve(query, in: nodes) {
        case .found(let node):
            return node
        case .notFound:
            throw .notFound("no node matches '\(query)' (by name, id or id prefix); `dvic nodes` lists them")
        case .ambiguous(let candidates):
            let shown = candidates.prefix(10).map { "\($0.name) (\($0.id))" }.joined(separator: ", ")
            let more = candidates.count > 10 ? " and \(candidates.count - 10) more" : ""
            throw .usage("'\(query)' matches \(candidates.count) nodes: \(shown)\(more); give a longer prefix or the id")
        }
    }
}
