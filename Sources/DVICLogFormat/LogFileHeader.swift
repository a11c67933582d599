/// The first line of a demo log file: a JSON object that says which process writes the file.
///
/// ```json
/// {"dvic_log": 1, "pid": 1234, "exe": "/usr/bin/python3", "argv": ["python3", "demo.py"],
///  "user": "pi", "name": "camera-demo", "started": "2026-11-28T10:00:00.000Z", "lib": "python/1.0.0"}
/// ```
///
/// Readers ignore keys they do not know, so writers may add some. The keys and their rules are
/// in Spec/logfile.md §3 and Spec/logfile-header.schema.json.
public struct LogFileHeader: Sendable, Hashable, Codable {
    /// The only format version there is.
    public static let currentVersion = 1

    /// `dvic_log`: the format version.
    public var version: Int
    public var pid: Int32
    /// The executable's path (`/proc/self/exe` on Linux); empty when the writer could not find it.
    public var exe: String
    public var argv: [String]
    /// The effective user's login name.
    public var user: String
    /// The demo's name as its code opened the log, for example `camera-demo`.
    public var name: String
    /// When the demo opened its log, as the writer wrote it (RFC 3339); see `startedMilliseconds`.
    public var started: String
    /// The writing library and its version, for example `swift/1.0.0`.
    public var lib: String?
    /// After a rotation, the token of the file this one continues.
    public var prev: String?

    public init(
        version: Int = LogFileHeader.currentVersion,
        pid: Int32,
        exe: String,
        argv: [String],
        user: String,
        name: String,
        started: String,
        lib: String? = nil,
        prev: String? = nil
    ) {
        self.version = version
        self.pid = pid
        self.exe = exe
        self.argv = argv
        self.user = user
        self.name = name
        self.started = started
        self.lib = lib
        self.prev = prev
    }

    /// `started` in milliseconds since the epoch, or nil when it is not an RFC 3339 date-time.
    public var startedMilliseconds: Int64? {
        LogTimestamp.parseRFC3339(started)
    }

    enum CodingKeys: String, CodingKey {
        case version = "dvic_log"
        case pid, exe, argv, user, name, started, lib, prev
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        // Decoded wide and narrowed here: an out-of-range pid is a bad field, not bad JSON.
        guard let pid = Int32(exactly: try container.decode(Int64.self, forKey: .pid)), pid > 0 else {
            throw DecodingError.dataCorruptedError(forKey: .pid, in: container, debugDescription: "not a process id")
        }
        self.pid = pid
        exe = try container.decode(String.self, forKey: .exe)
        argv = try container.decode([String].self, forKey: .argv)
        user = try container.decode(String.self, forKey: .user)
        name = try container.decode(String.self, forKey: .name)
        started = try container.decode(String.self, forKey: .started)
        lib = try container.decodeIfPresent(String.self, forKey: .lib)
        prev = try container.decodeIfPresent(String.self, forKey: .prev)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(pid, forKey: .pid)
        try container.encode(exe, forKey: .exe)
        try container.encode(argv, forKey: .argv)
        try container.encode(user, forKey: .user)
        try container.encode(name, forKey: .name)
        try container.encode(started, forKey: .started)
        try container.encodeIfPresent(lib, forKey: .lib)
        try container.encodeIfPresent(prev, forKey: .prev)
    }
}
