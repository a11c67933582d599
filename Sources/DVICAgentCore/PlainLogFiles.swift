import DVICProtocol

/// The plain log files of the configuration, one stream `file:<path>` each, every line an INFO
/// record stamped with the time it was read.
final class PlainLogFiles {
    private let runtime: AgentRuntime
    private var files: [String: FollowedFile] = [:]
    private var scratch: [UInt8] = []

    init(runtime: AgentRuntime) {
        self.runtime = runtime
    }

    var activeKeys: Set<String> { Set(files.keys.map { "file:\($0)" }) }

    struct PollResult {
        var chunks: [LogChunk] = []
        var updated: [LogStreamInfo] = []
        var more = false
    }

    /// Reads the files of `paths`; files no longer configured are dropped (their streams stay).
    func poll(paths: [String], now: Int64) async -> PollResult {
        var result = PollResult()
        let wanted = Set(paths)
        for path in files.keys where !wanted.contains(path) { files[path] = nil }
        for path in paths.sorted() {
            if files[path] == nil {
                let key = "file:\(path)"
                let info = LogStreamInfo(key: key, source: .file, name: path, path: path)
                let resume = await runtime.resume(for: key)
                files[path] = FollowedFile(path: path, info: info, format: .plain, resume: resume, maxLineBytes: 262_144)
                result.updated.append(info)
            }
            let file = files[path]!
            let status = FileSystem.status(path)
            let polled = file.poll(now: now, status: status, finishPartial: false, budget: 1 << 20, scratch: &scratch)
            result.chunks += polled.chunks
            result.more = result.more || polled.more
            if file.isGone {
                // A plain file comes back (logrotate): follow the next one under the same stream.
                files[path] = nil
            }
        }
        return result
    }
}
