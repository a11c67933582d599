extension Commands {
    public struct MetricsOptions: Sendable {
        public var node: String
        public var name: String
        public var since: String
        public var step: String?
        public var json: Bool

        public init(node: String, name: String, since: String, step: String?, json: Bool) {
            self.node = node
            self.name = name
            self.since = since
            self.step = step
            self.json = json
        }
    }

    /// `dvic metrics NODE NAME`: the points of one metric, with a sparkline.
    public static func metrics(_ options: MetricsOptions, client: FleetClient) async throws(CLIError) -> Int32 {
        let since = try TimeSpec.since(options.since)
        if let step = options.step { _ = try TimeSpec.require(step, flag: "--step") }
        let node = try await resolveNode(options.node, client: client)
        let series = try await client.metrics(node: node.id, name: options.name, since: since, step: options.step)
        if series.points.isEmpty {
            let names = try await client.metricNames(node: node.id)
            if !names.contains(options.name) {
                let known = names.isEmpty ? "it has none yet" : "it has: " + names.sorted().joined(separator: ", ")
                throw .notFound("node \(node.name) has no metric '\(options.name)'; \(known)")
            }
        }
        let result = CLIModel.NodeMetricSeries(node: node.id, nodeName: node.name, name: series.name, step: series.step, points: series.points)
        if options.json {
            try printJSON(result)
        } else {
            let width = Terminal.size(fds: [1]).map { max(10, min(120, Int($0.cols) - 1)) } ?? 60
            print(MetricsReport(result).render(sparklineWidth: width))
        }
        return CLIExitCode.success.rawValue
    }
}
