/// What the agent reads from /proc/stat.
public struct ProcStat: Sendable, Hashable {
    /// The `cpu` line: all CPUs together.
    public var total: CPUTimes?
    /// The `cpuN` lines by N. Offline CPUs have no line.
    public var cores: [Int: CPUTimes] = [:]
    /// `btime`: boot time in seconds since the epoch.
    public var bootTime: Int64?
    /// `procs_running`.
    public var processesRunning: Int?

    public init(total: CPUTimes? = nil, cores: [Int: CPUTimes] = [:], bootTime: Int64? = nil, processesRunning: Int? = nil) {
        self.total = total
        self.cores = cores
        self.bootTime = bootTime
        self.processesRunning = processesRunning
    }

    public static func parse(_ text: String) -> ProcStat { parse(Array(text.utf8)) }

    public static func parse(_ bytes: [UInt8]) -> ProcStat {
        var result = ProcStat()
        for line in TextScanner.lines(bytes) {
            if TextScanner.hasPrefix(line, "cpu") {
                let fields = TextScanner.fields(line)
                guard fields.count >= 5 else { continue }
                var values = fields.dropFirst().prefix(8).map { TextScanner.unsigned($0) ?? 0 }
                while values.count < 8 { values.append(0) }
                let times = CPUTimes(
                    user: values[0], nice: values[1], system: values[2], idle: values[3], iowait: values[4],
                    irq: values[5], softirq: values[6], steal: values[7])
                let name = fields[0]
                if name.count == 3 {
                    result.total = times
                } else if let index = TextScanner.unsigned(name.dropFirst(3)) {
                    result.cores[Int(index)] = times
                }
            } else if TextScanner.hasPrefix(line, "btime ") {
                result.bootTime = TextScanner.fields(line).dropFirst().first.flatMap(TextScanner.signed)
            } else if TextScanner.hasPrefix(line, "procs_running ") {
                result.processesRunning = TextScanner.fields(line).dropFirst().first
                    .flatMap(TextScanner.unsigned).map { Int($0) }
            }
        }
        return result
    }
}
