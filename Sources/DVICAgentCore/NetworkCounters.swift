/// Bytes received and sent by one network interface since it appeared, from /proc/net/dev.
public struct NetworkCounters: Sendable, Hashable {
    public var interface: String
    public var receivedBytes: UInt64
    public var sentBytes: UInt64

    public init(interface: String, receivedBytes: UInt64, sentBytes: UInt64) {
        self.interface = interface
        self.receivedBytes = receivedBytes
        self.sentBytes = sentBytes
    }

    /// Loopback traffic says nothing about the machine, and every container adds a `veth` pair
    /// whose traffic the bridge already counts; these would only churn the metric ids.
    public static func isReported(_ interface: String) -> Bool {
        interface != "lo" && !interface.hasPrefix("veth")
    }

    public static func parse(_ text: String) -> [NetworkCounters] { parse(Array(text.utf8)) }

    public static func parse(_ bytes: [UInt8]) -> [NetworkCounters] {
        var result: [NetworkCounters] = []
        for line in TextScanner.lines(bytes) {
            // Two header lines, then `  eth0: rxBytes rxPackets … (8 receive fields) txBytes …`.
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = TextScanner.fields(line[line.startIndex..<colon]).first.map(TextScanner.string) ?? ""
            let fields = TextScanner.fields(line[(colon + 1)...])
            guard !name.isEmpty, fields.count >= 9, let received = TextScanner.unsigned(fields[0]),
                let sent = TextScanner.unsigned(fields[8])
            else { continue }
            result.append(NetworkCounters(interface: name, receivedBytes: received, sentBytes: sent))
        }
        return result
    }
}
