#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// When a process started, from field 22 of /proc/<pid>/stat.
public struct ProcessStart: Sendable, Hashable {
    /// Clock ticks after boot: exact, so two readings of the same process compare equal.
    public var startTicks: UInt64
    /// Wall-clock start, milliseconds since the epoch (boot time plus the ticks).
    public var startMilliseconds: Int64
    /// A zombie has exited and only waits for its parent to reap it.
    public var isZombie: Bool

    public init(startTicks: UInt64, startMilliseconds: Int64, isZombie: Bool) {
        self.startTicks = startTicks
        self.startMilliseconds = startMilliseconds
        self.isZombie = isZombie
    }
}

/// Reads process start times from /proc.
public struct ProcessProbe: Sendable {
    public var procRoot: String
    public let bootTimeMilliseconds: Int64
    public let ticksPerSecond: Int64

    public init(procRoot: String = "/proc") {
        self.procRoot = procRoot
        let bootTime = FileSystem.readFile(procRoot + "/stat").map(ProcStat.parse)?.bootTime ?? 0
        self.bootTimeMilliseconds = bootTime * 1000
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        self.ticksPerSecond = ticks > 0 ? Int64(ticks) : 100
    }

    /// The start of process `pid`, or nil when there is no such process.
    public func start(of pid: Int32) -> ProcessStart? {
        guard pid > 0, let text = FileSystem.readFile("\(procRoot)/\(pid)/stat", maxBytes: 4096),
            let parsed = Self.parseStat(text)
        else { return nil }
        return ProcessStart(
            startTicks: parsed.startTicks,
            startMilliseconds: bootTimeMilliseconds + Int64(parsed.startTicks) * 1000 / ticksPerSecond,
            isZombie: parsed.state == UInt8(ascii: "Z") || parsed.state == UInt8(ascii: "X"))
    }

    public static func parseStat(_ text: String) -> (state: UInt8, startTicks: UInt64)? {
        parseStat(Array(text.utf8))
    }

    /// `pid (comm) state ppid … starttime …`: the command name may hold spaces and parentheses,
    /// so fields are counted from the last `)`.
    public static func parseStat(_ bytes: [UInt8]) -> (state: UInt8, startTicks: UInt64)? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = TextScanner.fields(bytes[(close + 1)...])
        // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
        guard fields.count > 19, let state = fields[0].first, let ticks = TextScanner.unsigned(fields[19]) else { return nil }
        return (state, ticks)
    }

    /// The `NSpid:` line of /proc/<pid>/status: the pid in each nested namespace, outermost first.
    public static func parseNamespacePIDs(status text: String) -> [Int32] {
        for line in text.split(separator: "\n") where line.hasPrefix("NSpid:") {
            return line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int32($0) }
        }
        return []
    }
}
