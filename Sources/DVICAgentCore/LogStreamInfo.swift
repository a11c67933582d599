public import DVICProtocol

/// What a log stream is: its stable key and the fields of its `logStreamOpen`.
///
/// Persisted with the spool, so that records of a source that is gone (a deleted demo log) can
/// still be replayed under the right description after a restart.
public struct LogStreamInfo: Sendable, Hashable {
    /// `demo:<token>`, `journald`, `file:<path>` or `container:<id>:<token>` (Spec/protocol.md 7).
    public var key: String
    public var source: LogSource
    public var name: String
    public var path: String
    public var container: String
    public var pid: UInt32
    public var exe: String
    public var argv: [String]
    public var user: String
    /// Milliseconds since the epoch, 0 when unknown.
    public var started: Int64

    public init(
        key: String, source: LogSource, name: String = "", path: String = "", container: String = "", pid: UInt32 = 0,
        exe: String = "", argv: [String] = [], user: String = "", started: Int64 = 0
    ) {
        self.key = key
        self.source = source
        self.name = name
        self.path = path
        self.container = container
        self.pid = pid
        self.exe = exe
        self.argv = argv
        self.user = user
        self.started = started
    }

    public func openMessage(streamID: UInt32) -> LogStreamOpen {
        LogStreamOpen(
            streamID: streamID, key: key, source: source, name: name, path: path, container: container, pid: pid, exe: exe,
            argv: argv, user: user, started: started)
    }

    /// A description made from the key alone, for a stream whose description was lost.
    public static func fallback(key: String) -> LogStreamInfo {
        if key == "journald" { return LogStreamInfo(key: key, source: .journald, name: "journald") }
        if key.hasPrefix("file:") {
            let path = String(key.dropFirst(5))
            return LogStreamInfo(key: key, source: .file, name: path, path: path)
        }
        if key.hasPrefix("container:") { return LogStreamInfo(key: key, source: .container) }
        return LogStreamInfo(key: key, source: .demo)
    }
}
