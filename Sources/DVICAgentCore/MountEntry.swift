/// One line of /proc/self/mounts.
public struct MountEntry: Sendable, Hashable {
    public var device: String
    public var mountPoint: String
    public var fileSystemType: String

    public init(device: String, mountPoint: String, fileSystemType: String) {
        self.device = device
        self.mountPoint = mountPoint
        self.fileSystemType = fileSystemType
    }

    /// File systems that hold no user data (or, for overlay and squashfs, repeat the data of a
    /// real one), so their usage means nothing on a dashboard.
    static let pseudoFileSystems: Set<String> = [
        "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "ramfs", "cgroup", "cgroup2", "securityfs", "pstore",
        "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs", "autofs", "binfmt_misc", "bpf",
        "nsfs", "overlay", "aufs", "squashfs", "rpc_pipefs", "efivarfs", "nfsd", "selinuxfs", "fuse.gvfsd-fuse",
        "fuse.portal", "fuse.lxcfs", "devfs", "iso9660", "udf",
    ]

    /// File systems that are real even though their source is not a /dev node.
    static let networkAndPooledFileSystems: Set<String> = ["zfs", "nfs", "nfs4", "cifs", "smb3", "9p", "virtiofs"]

    /// Mount points under which every mount is plumbing (kernel interfaces, container layers).
    static let ignoredPrefixes = ["/proc", "/sys", "/dev", "/run", "/snap", "/var/lib/docker", "/var/lib/containers"]

    /// Whether this mount holds real storage worth reporting.
    public var isReal: Bool {
        guard !Self.pseudoFileSystems.contains(fileSystemType) else { return false }
        for prefix in Self.ignoredPrefixes where mountPoint == prefix || mountPoint.hasPrefix(prefix + "/") {
            return false
        }
        return device.hasPrefix("/dev/") || Self.networkAndPooledFileSystems.contains(fileSystemType)
    }

    /// Every entry of a mounts file, in order.
    public static func parseAll(_ text: String) -> [MountEntry] { parseAll(Array(text.utf8)) }

    public static func parseAll(_ bytes: [UInt8]) -> [MountEntry] {
        TextScanner.lines(bytes).compactMap { line in
            let fields = TextScanner.fields(line)
            guard fields.count >= 3 else { return nil }
            return MountEntry(
                device: unescape(fields[0]), mountPoint: unescape(fields[1]), fileSystemType: TextScanner.string(fields[2]))
        }
    }

    /// The real mounts, one per device: bind mounts repeat a device, and the shortest mount point
    /// (the first one in mount order) is the one people know it by.
    public static func realMounts(_ entries: [MountEntry]) -> [MountEntry] {
        var byDevice: [String: Int] = [:]
        var result: [MountEntry] = []
        for entry in entries where entry.isReal {
            if let existing = byDevice[entry.device] {
                if entry.mountPoint.utf8.count < result[existing].mountPoint.utf8.count {
                    result[existing] = entry
                }
                continue
            }
            byDevice[entry.device] = result.count
            result.append(entry)
        }
        return result
    }

    /// The kernel writes a space as `\040`, a tab as `\011`, a newline as `\012`, a backslash as `\134`.
    static func unescape(_ field: ArraySlice<UInt8>) -> String {
        guard field.contains(UInt8(ascii: "\\")) else { return TextScanner.string(field) }
        var out: [UInt8] = []
        var index = field.startIndex
        while index < field.endIndex {
            let byte = field[index]
            if byte == UInt8(ascii: "\\"), field.endIndex - index >= 4 {
                let digits = field[(index + 1)...(index + 3)]
                if digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x37 }) {
                    let value = digits.reduce(0) { $0 * 8 + Int($1 - 0x30) }
                    out.append(UInt8(truncatingIfNeeded: value))
                    index += 4
                    continue
                }
            }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
