/// `dvic node show`: a node's identity, inventory, latest metrics, demos and
/// containers, as sections for people.
public enum NodeReport {
    public static func render(_ node: CLIModel.NodeDetail, now: Int64) -> String {
        var out: [String] = []
        let seen = HumanFormat.age(since: HumanFormat.parseTime(node.lastSeen), now: now)
        var head = TextTable(["", ""])
        head.rows = [
            ["Name:", node.name],
            ["ID:", node.id],
            ["Kind:", node.kind],
            ["Status:", "\(node.status) (last seen \(seen))"],
            ["Tags:", node.tags.isEmpty ? "-" : node.tags.joined(separator: ", ")],
            ["Agent:", node.agentVersion.isEmpty ? "-" : node.agentVersion],
        ]
        out.append(body(head))

        out.append("")
        out.append("Inventory")
        if node.inventory.isEmpty {
            out.append("  (none reported)")
        } else {
            var table = TextTable(["", ""])
            table.rows = node.inventory.sorted { $0.key < $1.key }.map { [$0.key, HumanFormat.printable($0.value)] }
            out.append(indent(body(table)))
        }

        out.append("")
        let at = node.metricsAt.map { " (\(HumanFormat.shortTime($0)) UTC, \(HumanFormat.age(since: HumanFormat.parseTime($0), now: now)))" } ?? ""
        out.append("Metrics\(at)")
        if node.metrics.isEmpty {
            out.append("  (none yet)")
        } else {
            var table = TextTable(["", ""], alignments: [.left, .right])
            table.rows = node.metrics.sorted { $0.key < $1.key }.map { [$0.key, metricValue(name: $0.key, $0.value)] }
            out.append(indent(body(table)))
        }

        out.append("")
        out.append("Demos")
        if node.demos.isEmpty {
            out.append("  (none)")
        } else {
            var table = TextTable(["NAME", "PID", "STATE"], alignments: [.left, .right, .left])
            for demo in node.demos.sorted(by: { ($0.name, $0.pid) < ($1.name, $1.pid) }) {
                table.append([demo.name, String(demo.pid), demo.state])
            }
            out.append(indent(table.render()))
        }

        out.append("")
        out.append("Containers")
        if node.containers.isEmpty {
            out.append("  (none)")
        } else {
            var table = TextTable(["NAME", "IMAGE", "STATE", "CPU", "MEM"], alignments: [.left, .left, .left, .right, .right])
            for container in node.containers.sorted(by: { $0.name < $1.name }) {
                table.append([
                    container.name, container.image, container.state,
                    HumanFormat.percent(Double(container.cpuPermille) / 10), HumanFormat.bytes(Double(container.memoryBytes)),
                ])
            }
            out.append(indent(table.render()))
        }
        return out.joined(separator: "\n")
    }

    /// A metric value in its natural unit, guessed from the name the agent gives it.
    public static func metricValue(name: String, _ value: Double) -> String {
        if name.hasPrefix("cpu.") || name.hasSuffix(".util") || name.hasSuffix("_percent") { return HumanFormat.percent(value) }
        if name.hasPrefix("mem.") || name.hasPrefix("swap.") || name.hasSuffix(".mem_used") || name.hasSuffix("_bytes") { return HumanFormat.bytes(value) }
        if name.hasPrefix("disk.io.") || name.hasPrefix("net.") { return HumanFormat.bytes(value) + "/s" }
        if name.hasPrefix("temp.") || name.hasSuffix(".temp") || name == "temp_c" { return "\(HumanFormat.number(value))°C" }
        return HumanFormat.number(value, decimals: 3)
    }

    /// A table without its (empty) header line.
    static func body(_ table: TextTable) -> String {
        table.render().split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }
}
