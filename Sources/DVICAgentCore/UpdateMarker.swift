/// What an agent leaves in its state directory across the `execv` of an update, so that the
/// process that comes up knows it is a new build on probation (`update-pending`), or the old
/// build back after a rollback (`update-rolledback`).
///
/// One `key=value` per line: `version`, `executable`, `backup`, `reason`, and `argument` once
/// per flag of the old process, which a rollback starts the old build with again (the new
/// build may have been started differently, or be something else entirely).
public struct UpdateMarker: Sendable, Hashable {
    public static let pendingFile = "update-pending"
    public static let rolledBackFile = "update-rolledback"

    /// The version the update went to.
    public var version: String
    public var executable: String
    public var backup: String
    public var reason: String
    public var arguments: [String]

    public init(version: String, executable: String, backup: String, reason: String = "", arguments: [String] = []) {
        self.version = version
        self.executable = executable
        self.backup = backup
        self.reason = reason
        self.arguments = arguments
    }

    public var text: String {
        // A newline inside a value would start a new key: flatten it.
        let clean = { (value: String) in String(value.map { $0 == "\n" ? " " : $0 }) }
        let head = "version=\(clean(version))\nexecutable=\(clean(executable))\nbackup=\(clean(backup))\nreason=\(clean(reason))\n"
        return head + arguments.map { "argument=\(clean($0))\n" }.joined()
    }

    public init?(text: String) {
        var values: [String: String] = [:]
        var arguments: [String] = []
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            let value = String(line[line.index(after: equals)...])
            if key == "argument" { arguments.append(value) } else { values[key] = value }
        }
        guard let version = values["version"], !version.isEmpty, let executable = values["executable"], let backup = values["backup"] else { return nil }
        self.init(version: version, executable: executable, backup: backup, reason: values["reason"] ?? "", arguments: arguments)
    }

    public static func read(_ path: String) -> UpdateMarker? {
        FileSystem.readString(path).flatMap(UpdateMarker.init(text:))
    }
}
