/// /etc/os-release (or /usr/lib/os-release): shell-style `KEY=value` lines.
public struct OSRelease: Sendable, Hashable {
    public var fields: [String: String]

    public init(fields: [String: String]) {
        self.fields = fields
    }

    /// `NAME`, such as `Debian GNU/Linux`.
    public var name: String? { fields["NAME"] }
    /// `VERSION_ID` (`12`), else `VERSION`, else `BUILD_ID` (rolling distributions have no version).
    public var version: String? { fields["VERSION_ID"] ?? fields["VERSION"] ?? fields["BUILD_ID"] }
    public var prettyName: String? { fields["PRETTY_NAME"] }

    public static func parse(_ text: String) -> OSRelease {
        var fields: [String: String] = [:]
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingASCIIWhitespace()
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            var value = Substring(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            }
            // Inside double quotes, backslash escapes `"`, `\`, `$` and `` ` ``.
            var unescaped = ""
            var escaping = false
            for character in value {
                if escaping {
                    unescaped.append(character)
                    escaping = false
                } else if character == "\\" {
                    escaping = true
                } else {
                    unescaped.append(character)
                }
            }
            fields[key] = unescaped
        }
        return OSRelease(fields: fields)
    }
}
