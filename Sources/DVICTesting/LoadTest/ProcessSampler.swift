import Foundation

/// Reads a local process's resident memory and CPU time from /proc, and the whole
/// machine's CPU time, so a run shows what the server cost and how busy the shared
/// machine was around it.
public struct ProcessSampler: Sendable {
    public let pid: Int32
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    public init(pid: Int32) { self.pid = pid }

    /// One reading.
    public struct Reading: Sendable {
        public var at: ContinuousClock.Instant
        public var rssBytes: Int64
        /// User + system CPU seconds of the process since it started.
        public var cpuSeconds: Double
        /// Busy and total CPU seconds of the whole machine (all cores).
        public var machineBusy: Double
        public var machineTotal: Double
    }

    public func read() -> Reading? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        // The command name (field 2) may hold spaces; fields after its ')' are plain.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        var rss: Int64 = 0
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            rss = (Int64(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        let (busy, total) = Self.machineCPU()
        return Reading(at: .now, rssBytes: rss, cpuSeconds: (utime + stime) / Self.ticksPerSecond, machineBusy: busy, machineTotal: total)
    }

    /// Busy and total seconds over all cores, from the first line of /proc/stat.
    static func machineCPU() -> (busy: Double, total: Double) {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first else { return (0, 0) }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return (0, 0) }
        let total = values.prefix(8).reduce(0, +)
        let idle = values[3] + values[4]
        return ((total - idle) / ticksPerSecond, total / ticksPerSecond)
    }

    /// The pid of a local `dvic-server` listening on `port` (by its command line), if any.
    public static func discoverServer(port: Int) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let argv = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard let exe = argv.first, exe.hasSuffix("dvic-server") else { continue }
            let portArgument = zip(argv, argv.dropFirst()).first { $0.0 == "--port" }?.1
            if portArgument == String(port) || (portArgument == nil && port == 8080) { return pid }
        }
        return nil
    }
}
