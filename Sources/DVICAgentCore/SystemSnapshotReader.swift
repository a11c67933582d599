#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a `SystemSnapshot` from /proc and /sys: plain file reads, no child process.
///
/// `root` prefixes every path, so tests can point it at a fixture tree; the real system is "".
/// Mount and sensor lists change rarely, so they are looked up again only every `rescanEvery`
/// readings, which keeps the per-second work to a handful of small reads.
public struct SystemSnapshotReader: Sendable {
    public var root: String
    public var rescanEvery: Int
    private var buffer: [UInt8] = []
    private var readings = 0
    private var mounts: [MountEntry] = []
    private var sensors: [SensorFile] = []

    struct SensorFile: Sendable, Hashable {
        var chip: String
        var label: String?
        var path: String
    }

    public init(root: String = "", rescanEvery: Int = 30) {
        self.root = root
        self.rescanEvery = max(1, rescanEvery)
    }

    public mutating func read(gpus: [GPUReading] = []) -> SystemSnapshot {
        var snapshot = SystemSnapshot(timestamp: WallClock.milliseconds(), monotonicNanoseconds: WallClock.monotonicNanoseconds())
        if readings % rescanEvery == 0 {
            mounts = readFile("/proc/self/mounts").map { MountEntry.realMounts(MountEntry.parseAll($0)) } ?? []
            sensors = discoverSensors()
        }
        readings += 1
        snapshot.stat = readFile("/proc/stat").map(ProcStat.parse)
        snapshot.load = readFile("/proc/loadavg").flatMap(LoadAverage.parse)
        snapshot.memory = readFile("/proc/meminfo").flatMap(MemoryInfo.parse)
        snapshot.disks = readFile("/proc/diskstats").map(DiskIOCounters.parseWholeDisks) ?? []
        snapshot.network = readFile("/proc/net/dev").map(NetworkCounters.parse) ?? []
        snapshot.uptimeSeconds = readFile("/proc/uptime").flatMap(Self.parseUptime)
        snapshot.processCount = FileSystem.countNumericEntries(root + "/proc")
        snapshot.fileSystems = mounts.compactMap { usage(of: $0.mountPoint) }
        snapshot.temperatures = TemperatureReading.name(
            sensors.compactMap { sensor in
                guard let text = FileSystem.readLine(sensor.path),
                    let celsius = TemperatureReading.parseMillidegrees(text)
                else { return nil }
                return (sensor.chip, sensor.label, celsius)
            })
        snapshot.gpus = gpus
        return snapshot
    }

    /// /proc/uptime: seconds since boot, then idle seconds.
    public static func parseUptime(_ bytes: [UInt8]) -> Double? {
        TextScanner.fields(bytes[...]).first.flatMap(TextScanner.double)
    }

    public static func parseUptime(_ text: String) -> Double? { parseUptime(Array(text.utf8)) }

    private mutating func readFile(_ path: String) -> [UInt8]? {
        FileSystem.readFile(root + path, into: &buffer) ? buffer : nil
    }

    private func usage(of mountPoint: String) -> FileSystemUsage? {
        var info = statvfs()
        guard statvfs(root + mountPoint, &info) == 0, info.f_blocks > 0 else { return nil }
        let unit = UInt64(info.f_frsize == 0 ? info.f_bsize : info.f_frsize)
        let total = UInt64(info.f_blocks) * unit
        let free = UInt64(info.f_bfree) * unit
        let available = UInt64(info.f_bavail) * unit
        return FileSystemUsage(
            mountPoint: mountPoint, totalBytes: total, availableBytes: available, usedBytes: total > free ? total - free : 0)
    }

    /// Thermal zones first (in zone order), then hwmon sensors (by chip, then sensor number).
    private func discoverSensors() -> [SensorFile] {
        var found: [SensorFile] = []
        let thermal = root + "/sys/class/thermal"
        let zones = (FileSystem.contentsOfDirectory(thermal) ?? []).filter { $0.hasPrefix("thermal_zone") }
            .sorted { Self.numericSuffix($0) < Self.numericSuffix($1) }
        for zone in zones {
            let type = FileSystem.readLine("\(thermal)/\(zone)/type") ?? zone
            found.append(SensorFile(chip: type, label: nil, path: "\(thermal)/\(zone)/temp"))
        }
        let hwmon = root + "/sys/class/hwmon"
        let chips = (FileSystem.contentsOfDirectory(hwmon) ?? []).filter { $0.hasPrefix("hwmon") }
            .sorted { Self.numericSuffix($0) < Self.numericSuffix($1) }
        for chip in chips {
            let directory = "\(hwmon)/\(chip)"
            let name = FileSystem.readLine("\(directory)/name") ?? chip
            let inputs = (FileSystem.contentsOfDirectory(directory) ?? [])
                .filter { $0.hasPrefix("temp") && $0.hasSuffix("_input") }
                .sorted { Self.numericSuffix($0) < Self.numericSuffix($1) }
            for input in inputs {
                let stem = input.dropLast("_input".count)
                let label = FileSystem.readLine("\(directory)/\(stem)_label")
                found.append(SensorFile(chip: name, label: label ?? String(stem), path: "\(directory)/\(input)"))
            }
        }
        return found
    }

    /// The first run of digits in a name (`thermal_zone10` → 10, `temp2_input` → 2), for natural order.
    static func numericSuffix(_ name: String) -> Int {
        let digits = name.drop { !$0.isNumber }.prefix { $0.isNumber }
        return Int(digits) ?? -1
    }
}
