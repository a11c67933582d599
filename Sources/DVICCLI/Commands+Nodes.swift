extension Commands {
    public struct NodesOptions: Sendable {
        public var tag: String?
        public var status: String?
        public var json: Bool

        public init(tag: String?, status: String?, json: Bool) {
            self.tag = tag
            self.status = status
            self.json = json
        }
    }

    /// `dvic nodes`: the fleet as a table (or JSON), with each node's latest figures.
    public static func nodes(_ options: NodesOptions, client: FleetClient) async throws(CLIError) -> Int32 {
        if let status = options.status, status != "online", status != "offline" {
            throw .usage("--status must be online or offline, not '\(status)'")
        }
        let nodes = try await client.nodes(tag: options.tag, status: options.status)
        let details = try await client.details(nodes.map(\.id))
        let listing = NodeListing(nodes: nodes, details: details)
        if options.json {
            try printJSON(listing.rows)
        } else if nodes.isEmpty {
            Console.err("no nodes\(options.tag.map { " with tag \($0)" } ?? "")\(options.status.map { " \($0)" } ?? "")")
        } else {
            print(listing.table(now: Console.now()).render())
        }
        return CLIExitCode.success.rawValue
    }

    /// `dvic node show NODE`.
    public static func nodeShow(_ query: String, json: Bool, client: FleetClient) async throws(CLIError) -> Int32 {
        let node = try await resolveNode(query, client: client)
        let detail = try await client.node(node.id)
        if json {
            try printJSON(detail)
        } else {
            print(NodeReport.render(detail, now: Console.now()))
        }
        return CLIExitCode.success.rawValue
    }
}
