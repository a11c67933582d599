public import DVICProtocol

/// Turns successive `SystemSnapshot`s into the protocol's metric descriptors and samples.
///
/// A value type with no I/O. Counters (CPU ticks, disk and network bytes) become percentages and
/// rates from the difference with the previous snapshot, so the first snapshot carries none of
/// them. Ids are handed out in the order names first appear and never change, so a sample of a
/// known name is the same id for the life of the agent; when an interface or mount appears, the
/// update carries the new descriptor set. Names that disappear keep their id (their values just
/// stop), unless ids run out: then the set is renumbered from scratch (`renumbered`).
public struct MetricsCollectorCore: Sendable {
    public struct Update: Sendable {
        /// The full descriptor set when it changed with this update (always on the first).
        public var descriptors: [MetricDescriptor]?
        /// True when ids were reassigned, so older samples no longer match the descriptors.
        public var renumbered: Bool
        public var sample: MetricSample
    }

    public private(set) var descriptors: [MetricDescriptor] = []
    private var ids: [String: UInt32] = [:]
    private var previous: SystemSnapshot?
    private let maxID: UInt32

    public init(maxID: UInt32 = 4095) {
        self.maxID = maxID
    }

    /// Units and scales (Spec/protocol.md 5.2: the wire keeps round(value × 10^scale)).
    enum Kind {
        case percent, load, bytes, bytesPerSecond, celsius, count, seconds

        var unit: String {
            switch self {
            case .percent: "%"
            case .load: ""
            case .bytes: "B"
            case .bytesPerSecond: "B/s"
            case .celsius: "°C"
            case .count: ""
            case .seconds: "s"
            }
        }

        var scale: Int64 {
            switch self {
            case .percent: 1
            case .load: 2
            case .bytes: -3
            case .bytesPerSecond: -2
            case .celsius: 1
            case .count: 0
            case .seconds: 0
            }
        }
    }

    public mutating func update(_ snapshot: SystemSnapshot) -> Update {
        var values: [(name: String, kind: Kind, counter: Bool, value: Double?)] = []
        let previous = self.previous
        let elapsed: Double? = previous.flatMap { previous in
            snapshot.monotonicNanoseconds > previous.monotonicNanoseconds
                ? Double(snapshot.monotonicNanoseconds - previous.monotonicNanoseconds) / 1e9 : nil
        }

        if let stat = snapshot.stat {
            if let total = stat.total {
                values.append(("cpu.total", .percent, false, previous?.stat?.total.flatMap { total.busyPercent(since: $0) }))
            }
            for index in stat.cores.keys.sorted() {
                let times = stat.cores[index]!
                let value = previous?.stat?.cores[index].flatMap { times.busyPercent(since: $0) }
                values.append(("cpu.core\(index)", .percent, false, value))
            }
        }
        if let load = snapshot.load {
            values.append(("load.1", .load, false, load.one))
            values.append(("load.5", .load, false, load.five))
            values.append(("load.15", .load, false, load.fifteen))
        }
        if let memory = snapshot.memory {
            values.append(("mem.used", .bytes, false, Double(memory.used)))
            values.append(("mem.available", .bytes, false, Double(memory.available)))
            values.append(("mem.total", .bytes, false, Double(memory.total)))
            values.append(("swap.used", .bytes, false, Double(memory.swapUsed)))
        }
        for fileSystem in snapshot.fileSystems {
            values.append(("disk.\(fileSystem.mountPoint).used_pct", .percent, false, fileSystem.usedPercent))
            values.append(("disk.\(fileSystem.mountPoint).free", .bytes, false, Double(fileSystem.availableBytes)))
        }
        if !snapshot.disks.isEmpty {
            var readRate: Double?
            var writeRate: Double?
            if let previous, let elapsed, !previous.disks.isEmpty {
                // Only disks present both times, so a disk plugged in does not look like a burst.
                let names = Set(previous.disks.map(\.name))
                let current = snapshot.disks.filter { names.contains($0.name) }
                let old = Dictionary(previous.disks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
                let readNow = current.reduce(UInt64(0)) { $0 &+ $1.readBytes }
                let readBefore = current.reduce(UInt64(0)) { $0 &+ (old[$1.name]?.readBytes ?? 0) }
                let writtenNow = current.reduce(UInt64(0)) { $0 &+ $1.writtenBytes }
                let writtenBefore = current.reduce(UInt64(0)) { $0 &+ (old[$1.name]?.writtenBytes ?? 0) }
                readRate = Self.rate(readNow, readBefore, elapsed)
                writeRate = Self.rate(writtenNow, writtenBefore, elapsed)
            }
            values.append(("disk.io.read", .bytesPerSecond, false, readRate))
            values.append(("disk.io.write", .bytesPerSecond, false, writeRate))
        }
        let oldNetwork = Dictionary((previous?.network ?? []).map { ($0.interface, $0) }, uniquingKeysWith: { first, _ in first })
        for interface in snapshot.network where NetworkCounters.isReported(interface.interface) {
            let old = oldNetwork[interface.interface]
            let rx = elapsed.flatMap { elapsed in old.flatMap { Self.rate(interface.receivedBytes, $0.receivedBytes, elapsed) } }
            let tx = elapsed.flatMap { elapsed in old.flatMap { Self.rate(interface.sentBytes, $0.sentBytes, elapsed) } }
            values.append(("net.\(interface.interface).rx", .bytesPerSecond, false, rx))
            values.append(("net.\(interface.interface).tx", .bytesPerSecond, false, tx))
        }
        for temperature in snapshot.temperatures {
            values.append(("temp.\(temperature.name)", .celsius, false, temperature.celsius))
        }
        for gpu in snapshot.gpus {
            values.append(("gpu.\(gpu.index).util", .percent, false, gpu.utilizationPercent))
            values.append(("gpu.\(gpu.index).mem_used", .bytes, false, gpu.memoryUsedBytes))
            values.append(("gpu.\(gpu.index).temp", .celsius, false, gpu.celsius))
        }
        if let uptime = snapshot.uptimeSeconds {
            values.append(("uptime", .seconds, true, uptime.rounded(.down)))
        }
        if let processes = snapshot.processCount {
            values.append(("procs", .count, false, Double(processes)))
        }

        var changed = previous == nil
        var renumbered = false
        let unknown = values.filter { ids[$0.name] == nil }
        if !unknown.isEmpty {
            changed = true
            if UInt32(descriptors.count + unknown.count) > maxID + 1 {
                // Ids ran out (interfaces come and go); start over with only the current names.
                descriptors = []
                ids = [:]
                renumbered = true
            }
            for entry in values where ids[entry.name] == nil {
                let id = UInt32(descriptors.count)
                ids[entry.name] = id
                descriptors.append(
                    MetricDescriptor(
                        id: id, name: entry.name, unit: entry.kind.unit, scale: entry.kind.scale,
                        kind: entry.counter ? .counter : .gauge))
            }
        }
        var sampleValues: [MetricValue] = []
        sampleValues.reserveCapacity(values.count)
        for entry in values {
            guard let value = entry.value, value.isFinite, let id = ids[entry.name] else { continue }
            sampleValues.append(MetricValue(id: id, value: value))
        }
        sampleValues.sort { $0.id < $1.id }
        self.previous = snapshot
        return Update(
            descriptors: changed ? descriptors : nil, renumbered: renumbered,
            sample: MetricSample(timestamp: snapshot.timestamp, values: sampleValues))
    }

    /// Bytes per second between two readings of a counter; nil when it went backwards (a reset).
    static func rate(_ current: UInt64, _ previous: UInt64, _ elapsed: Double) -> Double? {
        guard current >= previous, elapsed > 0 else { return nil }
        return Double(current - previous) / elapsed
    }
}
