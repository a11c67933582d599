/// Everything the collectors read at one instant, before any rate or percentage is worked out.
public struct SystemSnapshot: Sendable {
    /// Wall-clock time of the reading, milliseconds since the epoch (the sample's timestamp).
    public var timestamp: Int64
    /// A clock that never jumps, for rates.
    public var monotonicNanoseconds: UInt64
    public var stat: ProcStat?
    public var load: LoadAverage?
    public var memory: MemoryInfo?
    public var fileSystems: [FileSystemUsage] = []
    public var disks: [DiskIOCounters] = []
    public var network: [NetworkCounters] = []
    public var temperatures: [TemperatureReading] = []
    public var uptimeSeconds: Double?
    public var processCount: Int?
    public var gpus: [GPUReading] = []

    public init(timestamp: Int64, monotonicNanoseconds: UInt64) {
        self.timestamp = timestamp
        self.monotonicNanoseconds = monotonicNanoseconds
    }
}
