/// `dvic logs` lines for people: time, node, stream, level and text, the first three
/// padded so that the texts line up. Widths only grow, so a followed stream stays
/// aligned with what was printed before it.
public struct LogFormatter: Sendable {
    public var nodeNames: [String: String]
    private var nodeWidth = 0
    private var streamWidth = 0

    public init(nodeNames: [String: String]) {
        self.nodeNames = nodeNames
    }

    public func name(of nodeID: String) -> String {
        nodeNames[nodeID] ?? nodeID
    }

    /// Widens the columns to fit these entries (call before printing a batch).
    public mutating func fit(_ entries: [CLIModel.LogEntry]) {
        for entry in entries {
            nodeWidth = max(nodeWidth, TextTable.width(name(of: entry.node)))
            streamWidth = max(streamWidth, TextTable.width(entry.stream))
        }
        nodeWidth = min(nodeWidth, 32)
        streamWidth = min(streamWidth, 40)
    }

    public mutating func line(_ entry: CLIModel.LogEntry) -> String {
        fit([entry])
        let time = HumanFormat.shortTime(entry.ts) + "." + String(HumanFormat.clockTime(entry.ts).suffix(3))
        return [
            time,
            pad(name(of: entry.node), nodeWidth),
            pad(entry.stream, streamWidth),
            pad(entry.level.uppercased(), 5),
            HumanFormat.printable(entry.text),
        ].joined(separator: "  ")
    }

    /// The entry as `--json` prints it: with the node's name added.
    public func json(_ entry: CLIModel.LogEntry) -> CLIModel.LogEntry {
        var entry = entry
        entry.nodeName = nodeNames[entry.node]
        return entry
    }

    private func pad(_ text: String, _ width: Int) -> String {
        let missing = width - TextTable.width(text)
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }
}
