/// `dvic nodes`: one row per node with its latest CPU, memory and temperature (from
/// the node's detail), as a table for people or JSON for scripts.
public struct NodeListing: Sendable, Hashable {
    /// The figures a row shows, from a node's latest metric values.
    public struct Figures: Sendable, Hashable {
        /// Percent of all cores (`cpu.total`).
        public var cpu: Double?
        public var memoryUsed: Double?
        public var memoryTotal: Double?
        /// The hottest sensor (`temp.*`, or a device's `temp_c`).
        public var temperature: Double?

        public init(metrics: [String: Double]) {
            cpu = metrics["cpu.total"].flatMap { $0.isFinite ? $0 : nil }
            memoryUsed = metrics["mem.used"].flatMap { $0.isFinite ? $0 : nil }
            memoryTotal = metrics["mem.total"].flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
            temperature = metrics.filter { ($0.key.hasPrefix("temp.") || $0.key == "temp_c") && $0.value.isFinite }.map(\.value).max()
        }

        public var memoryPercent: Double? {
            guard let memoryUsed, let memoryTotal else { return nil }
            return memoryUsed / memoryTotal * 100
        }

        public var cpuText: String { cpu.map(HumanFormat.percent) ?? "-" }
        public var memoryText: String {
            if let memoryPercent { return HumanFormat.percent(memoryPercent) }
            return memoryUsed.map(HumanFormat.bytes) ?? "-"
        }
        public var temperatureText: String { temperature.map { "\(HumanFormat.number($0, decimals: 1))°C" } ?? "-" }
    }

    /// A row, and the `--json` object of one node.
    public struct Row: Encodable, Sendable, Hashable {
        public var node: CLIModel.NodeSummary
        public var figures: Figures

        enum CodingKeys: String, CodingKey {
            case id, name, kind, status, lastSeen, tags, agentVersion, demos, cpuPercent, memoryUsedBytes, memoryTotalBytes, temperatureCelsius
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(node.id, forKey: .id)
            try container.encode(node.name, forKey: .name)
            try container.encode(node.kind, forKey: .kind)
            try container.encode(node.status, forKey: .status)
            try container.encode(node.lastSeen, forKey: .lastSeen)
            try container.encode(node.tags, forKey: .tags)
            try container.encode(node.agentVersion, forKey: .agentVersion)
            try container.encode(node.demos, forKey: .demos)
            try container.encode(figures.cpu, forKey: .cpuPercent)
            try container.encode(figures.memoryUsed, forKey: .memoryUsedBytes)
            try container.encode(figures.memoryTotal, forKey: .memoryTotalBytes)
            try container.encode(figures.temperature, forKey: .temperatureCelsius)
        }
    }

    public var rows: [Row]

    /// Rows sorted by name, then id.
    public init(nodes: [CLIModel.NodeSummary], details: [String: CLIModel.NodeDetail]) {
        rows = nodes
            .sorted { ($0.name, $0.id) < ($1.name, $1.id) }
            .map { Row(node: $0, figures: Figures(metrics: details[$0.id]?.metrics ?? [:])) }
    }

    public func table(now: Int64) -> TextTable {
        var table = TextTable(
            ["STATUS", "NAME", "ID", "TAGS", "CPU", "MEM", "TEMP", "DEMOS", "LAST SEEN"],
            alignments: [.left, .left, .left, .left, .right, .right, .right, .left, .left])
        for row in rows {
            table.append([
                row.node.status, row.node.name, row.node.id, row.node.tags.isEmpty ? "-" : row.node.tags.joined(separator: ","),
                row.figures.cpuText, row.figures.memoryText, row.figures.temperatureText,
                Self.demos(row.node.demos),
                row.node.status == "online" && row.node.lastSeen == nil ? "now" : HumanFormat.age(since: HumanFormat.parseTime(row.node.lastSeen), now: now),
            ])
        }
        return table
    }

    /// The running demos' names, `-` for none.
    public static func demos(_ demos: [CLIModel.Demo], limit: Int = 32) -> String {
        let running = demos.filter { $0.state == "running" }.map(\.name)
        guard !running.isEmpty else { return "-" }
        let text = running.joined(separator: ",")
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }
}
