/// One temperature sensor's value, named for the dashboard.
public struct TemperatureReading: Sendable, Hashable {
    /// `cpu` for the processor's package sensor, else the sensor's own name (lower case, `_` for
    /// anything but letters, digits and `-`).
    public var name: String
    public var celsius: Double

    public init(name: String, celsius: Double) {
        self.name = name
        self.celsius = celsius
    }

    /// sysfs gives millidegrees Celsius as a decimal integer.
    public static func parseMillidegrees(_ text: String) -> Double? {
        let trimmed = text.trimmingASCIIWhitespace()
        guard let value = Int64(trimmed) else { return nil }
        return Double(value) / 1000
    }

    /// Whether a thermal zone type or hwmon chip/label pair measures the CPU package.
    ///
    /// - Parameters:
    ///   - chip: the thermal zone's `type` or the hwmon chip's `name`.
    ///   - label: the hwmon sensor's `temp*_label`, nil for thermal zones.
    public static func isCPUSensor(chip: String, label: String?) -> Bool {
        let chip = chip.lowercased()
        switch chip {
        case "x86_pkg_temp", "cpu-thermal", "cpu_thermal", "soc_thermal", "soc-thermal", "cpu":
            return true
        case "coretemp":
            return label.map { $0.lowercased().hasPrefix("package") } ?? false
        case "k10temp", "zenpower":
            return label.map { ["tctl", "tdie"].contains($0.lowercased()) } ?? true
        default:
            return chip.hasPrefix("cpu")
        }
    }

    /// A metric-safe name: lower case letters, digits, `_` and `-`.
    public static func sanitize(_ name: String) -> String {
        let mapped = name.lowercased().unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "0"..."9", "-", "_": Character(scalar)
            default: "_"
            }
        }
        let text = String(mapped)
        return text.isEmpty ? "sensor" : text
    }

    /// Names the raw sensors: the first CPU sensor becomes `cpu`, every other one keeps its own
    /// name, and repeated names get `_2`, `_3` … in the order given (which the reader keeps stable).
    public static func name(_ sensors: [(chip: String, label: String?, celsius: Double)]) -> [TemperatureReading] {
        var used: [String: Int] = [:]
        var result: [TemperatureReading] = []
        var hasCPU = false
        for sensor in sensors {
            var base: String
            if !hasCPU && isCPUSensor(chip: sensor.chip, label: sensor.label) {
                base = "cpu"
                hasCPU = true
            } else if let label = sensor.label, !label.isEmpty {
                base = sanitize(sensor.chip + "_" + label)
            } else {
                base = sanitize(sensor.chip)
            }
            let count = (used[base] ?? 0) + 1
            used[base] = count
            if count > 1 { base += "_\(count)" }
            result.append(TemperatureReading(name: base, celsius: sensor.celsius))
        }
        return result
    }
}
