/// Bytes read and written by one block device since boot, from /proc/diskstats.
public struct DiskIOCounters: Sendable, Hashable {
    public var name: String
    public var readBytes: UInt64
    public var writtenBytes: UInt64

    public init(name: String, readBytes: UInt64, writtenBytes: UInt64) {
        self.name = name
        self.readBytes = readBytes
        self.writtenBytes = writtenBytes
    }

    /// Devices that are no disks (loop, RAM disks, compressed swap, optical and floppy drives) or
    /// that stack on other disks (device mapper, software RAID), whose I/O would be counted twice.
    static let ignoredPrefixes = ["loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd"]

    /// The whole disks of /proc/diskstats: partitions and virtual devices are left out.
    ///
    /// /proc/diskstats lists `sda` and `sda1`, `nvme0n1` and `nvme0n1p1`, `mmcblk0` and
    /// `mmcblk0p1`: a device named after another one plus digits (or `p` and digits) is one of its
    /// partitions. This needs no /sys, so the parser stays a pure function of the file.
    public static func parseWholeDisks(_ text: String) -> [DiskIOCounters] { parseWholeDisks(Array(text.utf8)) }

    public static func parseWholeDisks(_ bytes: [UInt8]) -> [DiskIOCounters] {
        var all: [DiskIOCounters] = []
        for line in TextScanner.lines(bytes) {
            let fields = TextScanner.fields(line)
            // major minor name reads merged sectorsRead msReading writes merged sectorsWritten …
            guard fields.count >= 10, let sectorsRead = TextScanner.unsigned(fields[5]),
                let sectorsWritten = TextScanner.unsigned(fields[9])
            else { continue }
            // The kernel counts these sectors in 512-byte units whatever the device's sector size.
            all.append(
                DiskIOCounters(name: TextScanner.string(fields[2]), readBytes: sectorsRead * 512, writtenBytes: sectorsWritten * 512))
        }
        let names = Set(all.map(\.name))
        return all.filter { disk in
            if ignoredPrefixes.contains(where: { disk.name.hasPrefix($0) }) { return false }
            return !isPartition(disk.name, of: names)
        }
    }

    static func isPartition(_ name: String, of names: Set<String>) -> Bool {
        var base = Substring(name)
        while let last = base.last, last.isASCII, last.isNumber { base.removeLast() }
        guard base.count < name.count else { return false }
        if names.contains(String(base)) && base != Substring(name) { return true }
        if base.hasSuffix("p") {
            let parent = base.dropLast()
            if let last = parent.last, last.isNumber, names.contains(String(parent)) { return true }
        }
        return false
    }
}
