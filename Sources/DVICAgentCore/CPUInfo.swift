/// The processor's model and logical CPU count from /proc/cpuinfo.
public struct CPUInfo: Sendable, Hashable {
    public var model: String?
    public var logicalCores: Int

    public init(model: String?, logicalCores: Int) {
        self.model = model
        self.logicalCores = logicalCores
    }

    /// x86 has `model name` per processor; ARM boards have `Model` (Raspberry Pi) or `Hardware`
    /// once, and sometimes only `CPU part` numbers, which say nothing to a person.
    public static func parse(_ text: String) -> CPUInfo {
        var values: [String: String] = [:]
        var processors = 0
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingASCIIWhitespace()
            let value = line[line.index(after: colon)...].trimmingASCIIWhitespace()
            if key == "processor" { processors += 1 }
            if values[key] == nil, !value.isEmpty { values[key] = value }
        }
        let model = values["model name"] ?? values["Model"] ?? values["Hardware"] ?? values["cpu model"] ?? values["Processor"]
        return CPUInfo(model: model, logicalCores: processors)
    }
}
