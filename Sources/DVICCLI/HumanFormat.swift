internal import DVICLogFormat

/// How numbers, sizes, ages and times are written for people.
public enum HumanFormat {
    /// `5s ago`, `3m ago`, `2h ago`, `4d ago`; `never` without a time.
    public static func age(since milliseconds: Int64?, now: Int64) -> String {
        guard let milliseconds else { return "never" }
        let seconds = max(0, (now - milliseconds) / 1000)
        switch seconds {
        case ..<60: return "\(seconds)s ago"
        case ..<3600: return "\(seconds / 60)m ago"
        case ..<86_400: return "\(seconds / 3600)h ago"
        default: return "\(seconds / 86_400)d ago"
        }
    }

    /// Milliseconds since the epoch of an RFC 3339 time, nil when it is not one.
    public static func parseTime(_ text: String?) -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        return LogTimestamp.parseRFC3339(text)
    }

    /// RFC 3339 with milliseconds, UTC: the API's form.
    public static func isoTime(_ milliseconds: Int64) -> String {
        LogTimestamp.format(milliseconds)
    }

    /// `2026-11-28 10:00:00` in UTC, for tables (the full RFC 3339 form is in `--json`).
    public static func shortTime(_ text: String) -> String {
        guard let milliseconds = parseTime(text) else { return text }
        let full = LogTimestamp.format(milliseconds)  // 2026-11-28T10:00:00.000Z
        return String(full.prefix(19)).replacingFirst("T", with: " ")
    }

    /// `10:00:00.123`, for log lines.
    public static func clockTime(_ text: String) -> String {
        guard let milliseconds = parseTime(text) else { return text }
        let full = LogTimestamp.format(milliseconds)
        return String(full.dropFirst(11).prefix(12))
    }

    /// `1.5 KiB`, `2.0 GiB`.
    public static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var scaled = value
        var unit = 0
        while abs(scaled) >= 1024, unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(scaled)) B" : "\(number(scaled, decimals: 1)) \(units[unit])"
    }

    /// A number with at most `decimals` decimals, no trailing zeros beyond one.
    public static func number(_ value: Double, decimals: Int = 1) -> String {
        guard value.isFinite else { return "-" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var factor = 1.0
        for _ in 0..<decimals { factor *= 10 }
        let rounded = (value * factor).rounded() / factor
        var text = String(rounded)
        if text.contains("e") { return text }
        if let dot = text.firstIndex(of: ".") {
            let fraction = text[text.index(after: dot)...]
            if fraction.count > decimals { text = String(text[..<text.index(dot, offsetBy: decimals + 1)]) }
        }
        return text
    }

    public static func percent(_ value: Double) -> String {
        "\(number(value, decimals: 1))%"
    }

    /// `12ms`, `1.2s`, `3m04s`.
    public static func duration(milliseconds: UInt64) -> String {
        switch milliseconds {
        case ..<1000: return "\(milliseconds)ms"
        case ..<60_000: return "\(number(Double(milliseconds) / 1000, decimals: 1))s"
        default:
            let seconds = milliseconds / 1000
            let rest = seconds % 60
            return "\(seconds / 60)m\(rest < 10 ? "0" : "")\(rest)s"
        }
    }

    /// Control characters other than tab shown as `\u{..}`-free caret forms, so a log
    /// line can never move the cursor or change colours in the reader's terminal.
    public static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) else {
            return text
        }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: result += "\\n"
            case 0x0D: result += "\\r"
            case 0x09: result.unicodeScalars.append(scalar)
            case 0..<0x20: result += "^" + String(UnicodeScalar(UInt8(scalar.value + 0x40)))
            case 0x7F: result += "^?"
            case 0x80...0x9F: result += "?"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension String {
    func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let position = firstIndex(of: target) else { return self }
        return String(self[..<position]) + replacement + String(self[index(after: position)...])
    }
}
