#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The addresses of the machine's network interfaces, from getifaddrs(3) and /sys/class/net.
public struct NetworkInterfaceAddresses: Sendable, Hashable {
    public var name: String
    public var ipv4: [String] = []
    public var ipv6: [String] = []
    public var mac: String?

    public init(name: String, ipv4: [String] = [], ipv6: [String] = [], mac: String? = nil) {
        self.name = name
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.mac = mac
    }

    /// Every interface but loopback, by name.
    public static func current(sysRoot: String = "") -> [NetworkInterfaceAddresses] {
        var byName: [String: NetworkInterfaceAddresses] = [:]
        var list: UnsafeMutablePointer<ifaddrs>?
        if getifaddrs(&list) == 0 {
            var cursor = list
            while let entry = cursor {
                defer { cursor = entry.pointee.ifa_next }
                let name = String(cString: entry.pointee.ifa_name)
                guard name != "lo", let address = entry.pointee.ifa_addr else { continue }
                var interface = byName[name] ?? NetworkInterfaceAddresses(name: name)
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    if let text = Self.text(address, family: AF_INET) { interface.ipv4.append(text) }
                case AF_INET6:
                    if let text = Self.text(address, family: AF_INET6) { interface.ipv6.append(text) }
                default:
                    break
                }
                byName[name] = interface
            }
            freeifaddrs(list)
        }
        for name in FileSystem.contentsOfDirectory(sysRoot + "/sys/class/net") ?? [] where name != "lo" {
            var interface = byName[name] ?? NetworkInterfaceAddresses(name: name)
            if let mac = FileSystem.readLine("\(sysRoot)/sys/class/net/\(name)/address"), !mac.isEmpty,
                mac != "00:00:00:00:00:00"
            {
                interface.mac = mac
            }
            byName[name] = interface
        }
        return byName.values.sorted { $0.name < $1.name }
    }

    private static func text(_ address: UnsafeMutablePointer<sockaddr>, family: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let result: UnsafePointer<CChar>? = address.withMemoryRebound(to: UInt8.self, capacity: 1) { raw in
            if family == AF_INET {
                return UnsafeRawPointer(raw).withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                    var addr = inet.pointee.sin_addr
                    return inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
                }
            }
            return UnsafeRawPointer(raw).withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet6 in
                var addr = inet6.pointee.sin6_addr
                return inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
            }
        }
        guard result != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
