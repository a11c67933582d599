/// Durations written the server's way: `500ms`, `30s`, `10m`, `2h`, `1d`, or plain
/// seconds. The CLI checks them before sending, so a typo is a usage error at once.
public enum TimeSpec {
    /// Milliseconds, or nil when `text` is not a duration.
    public static func milliseconds(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value >= 0, value < 1e9 else { return nil }
            return Int64(value * factor)
        }
        guard let seconds = Double(text), seconds >= 0, seconds < 1e9 else { return nil }
        return Int64(seconds * 1000)
    }

    /// A duration, or the usage error naming the flag.
    public static func require(_ text: String, flag: String) throws(CLIError) -> Int64 {
        guard let value = milliseconds(text) else {
            throw .usage("\(flag) '\(text)' is not a duration like 30s, 10m, 2h or 1d")
        }
        return value
    }

    /// A `--since` value the server understands: a duration (an age before now), an
    /// RFC 3339 time, or milliseconds since the epoch.
    /// A plain number is taken as seconds (the server would read it as an epoch time).
    public static func since(_ text: String, flag: String = "--since") throws(CLIError) -> String {
        if HumanFormat.parseTime(text) != nil { return text }
        if milliseconds(text) != nil { return Double(text) != nil ? text + "s" : text }
        throw .usage("\(flag) '\(text)' is not an age like 10m or 2h, nor an RFC 3339 time")
    }
}
