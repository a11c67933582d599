public import DVICProtocol

/// `dvic top` without I/O: the fleet as last seen (from REST at start, then from the
/// stream's `nodeStatus`, `metricPoints` and `demoStates`), and the screen it makes,
/// busiest CPU first.
public struct TopModel: Sendable {
    public struct Node: Sendable, Hashable {
        public var summary: CLIModel.NodeSummary
        public var metrics: [String: Double]
        public var figures: NodeListing.Figures { NodeListing.Figures(metrics: metrics) }
    }

    public private(set) var nodes: [String: Node] = [:]

    public init(nodes: [CLIModel.NodeSummary], details: [String: CLIModel.NodeDetail]) {
        for node in nodes {
            self.nodes[node.id] = Node(summary: node, metrics: details[node.id]?.metrics ?? [:])
        }
    }

    public mutating func apply(_ message: Message) {
        switch message {
        case .nodeStatus(let status):
            var node = nodes[status.nodeID] ?? Node(summary: CLIModel.NodeSummary(id: status.nodeID, name: status.name), metrics: [:])
            node.summary.name = status.name
            node.summary.kind = status.kind == .device ? "device" : "agent"
            node.summary.status = status.state.name
            node.summary.lastSeen = status.lastSeen > 0 ? HumanFormat.isoTime(status.lastSeen) : node.summary.lastSeen
            node.summary.agentVersion = status.agentVersion
            node.summary.tags = status.tags
            nodes[status.nodeID] = node
        case .metricPoints(let points):
            guard var node = nodes[points.nodeID] else { return }
            for point in points.points { node.metrics[point.name] = point.value }
            if let newest = points.points.map(\.timestamp).max() {
                node.summary.lastSeen = HumanFormat.isoTime(max(newest, HumanFormat.parseTime(node.summary.lastSeen) ?? 0))
            }
            nodes[points.nodeID] = node
        case .demoStates(let states):
            guard var node = nodes[states.nodeID] else { return }
            node.summary.demos = states.processes.map { CLIModel.Demo(name: $0.name, pid: $0.pid, state: $0.state.name) }
            nodes[states.nodeID] = node
        default:
            break
        }
    }

    /// Busiest CPU first; nodes without a CPU figure last, by name.
    public var sorted: [Node] {
        nodes.values.sorted { left, right in
            switch (left.figures.cpu, right.figures.cpu) {
            case (let l?, let r?) where l != r: return l > r
            case (.some, nil): return true
            case (nil, .some): return false
            default: return (left.summary.name, left.summary.id) < (right.summary.name, right.summary.id)
            }
        }
    }

    public func table(now: Int64) -> TextTable {
        var table = TextTable(
            ["NAME", "STATUS", "CPU", "MEM", "TEMP", "DEMOS", "LAST SEEN", "ID"],
            alignments: [.left, .left, .right, .right, .right, .left, .left, .left])
        for node in sorted {
            let figures = node.figures
            table.append([
                node.summary.name, node.summary.status, figures.cpuText, figures.memoryText, figures.temperatureText,
                NodeListing.demos(node.summary.demos, limit: 24),
                HumanFormat.age(since: HumanFormat.parseTime(node.summary.lastSeen), now: now), node.summary.id,
            ])
        }
        return table
    }

    /// The whole screen: a title line, a blank line and the table, cut to the window.
    public func screen(server: String, now: Int64, size: Terminal.Size?) -> [String] {
        let online = nodes.values.filter { $0.summary.status == "online" }.count
        let clock = String(HumanFormat.isoTime(now).dropFirst(11).prefix(8))
        var lines = ["dvic top · \(server) · \(nodes.count) nodes, \(online) online · \(clock) UTC · q to quit", ""]
        lines += table(now: now).render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let size else { return lines }
        let width = Int(size.cols)
        return lines.prefix(max(1, Int(size.rows) - 1)).map { line in
            TextTable.width(line) > width ? String(line.prefix(width)) : line
        }
    }

    /// The `--json` snapshot, in the screen's order.
    public var rows: [NodeListing.Row] {
        sorted.map { NodeListing.Row(node: $0.summary, figures: $0.figures) }
    }
}
