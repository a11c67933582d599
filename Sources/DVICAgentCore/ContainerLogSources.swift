import DVICLogFormat
import DVICProtocol
import Logging
import NIOCore

/// The containers of the node and the demo logs inside them: lists containers through the Docker
/// Engine API and follows `dvic_log_*` in each running container's /tmp through
/// `/proc/<pid>/root/tmp` (never `docker exec`), as streams `container:<id>:<token>`.
final class ContainerLogSources {
    let procRoot: String
    let probe: ProcessProbe
    let resume: (String) async -> SourceResume
    private var watchers: [String: (watcher: LogDirectoryWatcher, probe: ContainerProcessProbe)] = [:]

    init(procRoot: String = "/proc", resume: @escaping (String) async -> SourceResume) {
        self.procRoot = procRoot
        self.probe = ProcessProbe(procRoot: procRoot)
        self.resume = resume
    }

    /// The short id used in stream keys.
    static func shortID(_ id: String) -> String { String(id.prefix(12)) }

    /// Follows the running containers given (id and host pid of their init); stops following the
    /// others, whose streams end once read to their end.
    func update(running: [(id: String, pid: Int32)]) {
        let wanted = Dictionary(running.map { (Self.shortID($0.id), $0.pid) }, uniquingKeysWith: { first, _ in first })
        for (id, pid) in wanted where watchers[id] == nil || watchers[id]!.probe.rootPID != pid {
            let containerProbe = ContainerProcessProbe(probe: probe, rootPID: pid)
            let configuration = LogDirectoryWatcher.Configuration(
                directory: "\(procRoot)/\(pid)/root/tmp", keyPrefix: "container:\(id):", source: .container, container: id)
            let watcher = LogDirectoryWatcher(configuration: configuration, resume: resume) { containerProbe.start(of: $0) }
            watchers[id] = (watcher, containerProbe)
        }
    }

    /// Reads every followed container; containers that stopped are dropped after their files
    /// were read to the end (their directory is gone, so every file is).
    func poll(now: Int64, stopped: Set<String>) async -> LogDirectoryWatcher.PollResult {
        var total = LogDirectoryWatcher.PollResult()
        for id in watchers.keys.sorted() {
            let result = await watchers[id]!.watcher.poll(now: now)
            total.chunks += result.chunks
            total.updatedStreams += result.updatedStreams
            total.goneKeys += result.goneKeys
            total.more = total.more || result.more
            total.processesChanged = total.processesChanged || result.processesChanged
            if stopped.contains(id) && watchers[id]!.watcher.activeKeys.isEmpty { watchers[id] = nil }
        }
        return total
    }

    var processes: [DemoProcess] {
        watchers.values.flatMap { $0.watcher.processes }
    }

    var activeKeys: Set<String> {
        watchers.values.reduce(into: Set<String>()) { $0.formUnion($1.watcher.activeKeys) }
    }

    var followedContainers: [String] { watchers.keys.sorted() }
}
