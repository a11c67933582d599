#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import DVICProtocol

/// What the node is (Spec/protocol.md 5.3), read from the system.
public struct InventoryCollector: Sendable {
    /// Prefix of every path read, for fixture trees in tests; "" is the real system.
    public var root: String
    public var agentVersion: String
    public var dockerSocketPath: String

    public init(root: String = "", agentVersion: String = AgentVersion.current, dockerSocketPath: String = "/var/run/docker.sock") {
        self.root = root
        self.agentVersion = agentVersion
        self.dockerSocketPath = dockerSocketPath
    }

    /// The attributes sorted by key, so that two collections compare equal when nothing changed.
    ///
    /// - Parameter extra: more attributes (the GPU model, the agent's name and tags).
    public func collect(extra: [KeyValue] = []) -> [KeyValue] {
        var attributes: [String: String] = [:]
        var host = [CChar](repeating: 0, count: 256)
        if gethostname(&host, host.count - 1) == 0 {
            attributes["hostname"] = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let release = (FileSystem.readString(root + "/etc/os-release") ?? FileSystem.readString(root + "/usr/lib/os-release"))
            .map(OSRelease.parse)
        attributes["os.name"] = release?.name ?? "Linux"
        attributes["os.version"] = release?.version ?? ""
        var names = utsname()
        if uname(&names) == 0 {
            attributes["kernel"] = Self.string(&names.release)
            attributes["arch"] = Self.string(&names.machine)
        }
        if let cpu = FileSystem.readString(root + "/proc/cpuinfo").map(CPUInfo.parse) {
            attributes["cpu.model"] = cpu.model ?? ""
            let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
            attributes["cpu.cores"] = String(online > 0 ? online : cpu.logicalCores)
        }
        if let memory = FileSystem.readFile(root + "/proc/meminfo").flatMap(MemoryInfo.parse) {
            attributes["memory.total_bytes"] = String(memory.total)
            attributes["swap.total_bytes"] = String(memory.swapTotal)
        }
        for interface in NetworkInterfaceAddresses.current(sysRoot: root) {
            if !interface.ipv4.isEmpty { attributes["net.\(interface.name).ipv4"] = interface.ipv4.joined(separator: ",") }
            if !interface.ipv6.isEmpty { attributes["net.\(interface.name).ipv6"] = interface.ipv6.joined(separator: ",") }
            if let mac = interface.mac { attributes["net.\(interface.name).mac"] = mac }
        }
        attributes["agent.version"] = agentVersion
        attributes["systemd"] = FileSystem.exists(root + "/run/systemd/system") ? "yes" : "no"
        attributes["docker"] = FileSystem.exists(dockerSocketPath) ? "yes" : "no"
        if let bootTime = FileSystem.readFile(root + "/proc/stat").map(ProcStat.parse)?.bootTime {
            attributes["boot.time"] = WallClock.rfc3339(milliseconds: bootTime * 1000)
        }
        for pair in extra { attributes[pair.key] = pair.value }
        return attributes.keys.sorted().map { KeyValue($0, attributes[$0]!) }
    }

    private static func string<T>(_ field: inout T) -> String {
        withUnsafeBytes(of: &field) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
