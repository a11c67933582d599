/// One `cpu` line of /proc/stat: time spent in each state, in clock ticks since boot.
public struct CPUTimes: Sendable, Hashable {
    public var user: UInt64 = 0
    public var nice: UInt64 = 0
    public var system: UInt64 = 0
    public var idle: UInt64 = 0
    public var iowait: UInt64 = 0
    public var irq: UInt64 = 0
    public var softirq: UInt64 = 0
    public var steal: UInt64 = 0

    public init(
        user: UInt64 = 0, nice: UInt64 = 0, system: UInt64 = 0, idle: UInt64 = 0, iowait: UInt64 = 0,
        irq: UInt64 = 0, softirq: UInt64 = 0, steal: UInt64 = 0
    ) {
        self.user = user
        self.nice = nice
        self.system = system
        self.idle = idle
        self.iowait = iowait
        self.irq = irq
        self.softirq = softirq
        self.steal = steal
    }

    /// Guest time is already part of user and nice, so it is not added again.
    public var total: UInt64 { user &+ nice &+ system &+ idle &+ iowait &+ irq &+ softirq &+ steal }
    /// Waiting for I/O is idle time for the CPU, as `top` counts it.
    public var idleTotal: UInt64 { idle &+ iowait }

    /// The busy share of the time between `previous` and `self`, in percent; nil when no time
    /// passed or the counters went backwards (a CPU that went offline and came back).
    public func busyPercent(since previous: CPUTimes) -> Double? {
        guard total > previous.total, idleTotal >= previous.idleTotal else { return nil }
        let elapsed = Double(total - previous.total)
        let idled = Double(idleTotal - previous.idleTotal)
        return max(0, min(100, (elapsed - idled) / elapsed * 100))
    }
}
