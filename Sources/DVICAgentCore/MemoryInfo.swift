/// /proc/meminfo, in bytes.
public struct MemoryInfo: Sendable, Hashable {
    public var total: UInt64
    public var available: UInt64
    public var swapTotal: UInt64
    public var swapFree: UInt64

    public init(total: UInt64, available: UInt64, swapTotal: UInt64, swapFree: UInt64) {
        self.total = total
        self.available = available
        self.swapTotal = swapTotal
        self.swapFree = swapFree
    }

    /// What programs hold: everything the kernel could not hand out without swapping.
    public var used: UInt64 { total > available ? total - available : 0 }
    public var swapUsed: UInt64 { swapTotal > swapFree ? swapTotal - swapFree : 0 }

    public static func parse(_ text: String) -> MemoryInfo? { parse(Array(text.utf8)) }

    public static func parse(_ bytes: [UInt8]) -> MemoryInfo? {
        var values: [String: UInt64] = [:]
        for line in TextScanner.lines(bytes) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = TextScanner.string(line[line.startIndex..<colon])
            guard ["MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached", "SwapTotal", "SwapFree"].contains(name)
            else { continue }
            let fields = TextScanner.fields(line[(colon + 1)...])
            guard let number = fields.first.flatMap(TextScanner.unsigned) else { continue }
            // Values are in kibibytes whatever the unit column says ("kB").
            values[name] = fields.count > 1 ? number * 1024 : number
        }
        guard let total = values["MemTotal"] else { return nil }
        // Kernels before 3.14 have no MemAvailable; free plus page cache is the usual estimate.
        let available =
            values["MemAvailable"] ?? ((values["MemFree"] ?? 0) + (values["Buffers"] ?? 0) + (values["Cached"] ?? 0))
        return MemoryInfo(
            total: total, available: min(available, total), swapTotal: values["SwapTotal"] ?? 0,
            swapFree: values["SwapFree"] ?? 0)
    }
}
