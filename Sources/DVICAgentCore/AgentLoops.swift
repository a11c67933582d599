import DVICLogFormat
import DVICProtocol
import Logging
import NIOCore
import Synchronization

/// The agent's long-running loops, each one child task of `Agent.run()`.
struct AgentLoops: Sendable {
    let configuration: AgentConfiguration
    let runtime: AgentRuntime
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup
    let gpu = GPUMonitor()

    /// Fewest milliseconds between two log polls, so a chatty demo costs a few polls a second,
    /// not one per line.
    static let logPollSpacing: Duration = .milliseconds(250)

    func inventory() -> [KeyValue] {
        var extra: [KeyValue] = []
        if let model = gpu.latest.first?.name { extra.append(KeyValue("gpu.model", model)) }
        if let name = configuration.name { extra.append(KeyValue("agent.name", name)) }
        if !configuration.tags.isEmpty { extra.append(KeyValue("agent.tags", configuration.tags.joined(separator: ","))) }
        return InventoryCollector(root: configuration.systemRoot, dockerSocketPath: configuration.dockerSocketPath)
            .collect(extra: extra)
    }

    /// Collects metrics every interval (which the server may change).
    func metrics() async {
        var reader = SystemSnapshotReader(root: configuration.systemRoot)
        var core = MetricsCollectorCore()
        var interval = configuration.interval
        let updates = await runtime.configurationUpdates()
        let watcher = IntervalBox(interval)
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await configuration in updates { watcher.set(configuration.interval) }
            }
            while !Task.isCancelled {
                let started = ContinuousClock.now
                let update = core.update(reader.read(gpus: gpu.latest))
                await runtime.recordMetrics(update)
                interval = watcher.value
                do {
                    try await Task.sleep(until: started + interval, clock: .continuous)
                } catch {
                    break
                }
            }
            group.cancelAll()
        }
    }

    /// Follows the demo logs of the log directory and the configured plain log files.
    func logs() async {
        let runtime = self.runtime
        let probe = ProcessProbe(procRoot: configuration.systemRoot + "/proc")
        let watcher = LogDirectoryWatcher(
            configuration: LogDirectoryWatcher.Configuration(directory: configuration.logDirectory),
            resume: { await runtime.resume(for: $0) }, probe: { probe.start(of: $0) })
        let plain = PlainLogFiles(runtime: runtime)
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let logFiles = configuration.logFiles
        let directories = [configuration.logDirectory] + logFiles.map(Self.directory(of:))
        let names = Set(logFiles.map { String($0.split(separator: "/").last ?? "") })
        let monitor = DirectoryChangeMonitor(
            directories: Array(Set(directories)), isInteresting: { $0.isEmpty || $0.hasPrefix(LogFileName.prefix) || names.contains($0) },
            eventLoopGroup: eventLoopGroup, logger: logger)
        await withDiscardingTaskGroup { group in
            group.addTask { _ = await monitor.run { signal.yield() } }
            group.addTask {
                while true {
                    signal.yield()
                    do { try await Task.sleep(for: .seconds(1)) } catch { return }
                }
            }
            var firstScan = true
            for await _ in signals {
                var more = true
                while more && !Task.isCancelled {
                    let now = WallClock.milliseconds()
                    let result = await watcher.poll(now: now)
                    let files = await plain.poll(paths: await runtime.configuration.logFiles, now: now)
                    await runtime.ingest(
                        chunks: result.chunks + files.chunks, updated: result.updatedStreams + files.updated,
                        gone: result.goneKeys)
                    if result.processesChanged { await runtime.updateProcesses(source: "host", watcher.processes) }
                    more = result.more || files.more
                }
                if firstScan {
                    firstScan = false
                    await runtime.sourcesScanned(prefixes: ["demo:", "file:"], active: watcher.activeKeys.union(plain.activeKeys))
                }
                do { try await Task.sleep(for: Self.logPollSpacing) } catch { break }
            }
            group.cancelAll()
        }
    }

    /// Syncs the spool, closes finished streams and runs the session clock every second; takes a
    /// fresh inventory every `inventoryInterval`.
    func housekeeping() async {
        var lastInventory: ContinuousClock.Instant?
        while !Task.isCancelled {
            let now = ContinuousClock.now
            if lastInventory.map({ now - $0 >= configuration.inventoryInterval }) ?? true {
                await runtime.updateInventory(inventory())
                lastInventory = now
            }
            await runtime.housekeeping(now: WallClock.milliseconds())
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    /// Follows journald with the configured units, restarting journalctl when they change.
    func journald() async {
        let runtime = self.runtime
        let updates = await runtime.configurationUpdates()
        var current: AgentConfiguration.JournaldSelection?
        await withDiscardingTaskGroup { group in
            var stopCurrent: AsyncStream<Void>.Continuation?
            for await configuration in updates where configuration.journald != current {
                current = configuration.journald
                stopCurrent?.finish()
                stopCurrent = nil
                let units: [String]
                switch configuration.journald {
                case .none: continue
                case .all: units = []
                case .units(let list): units = list
                }
                let (stop, stopper) = AsyncStream.makeStream(of: Void.self)
                stopCurrent = stopper
                let follower = JournalFollower(
                    executable: configuration.journalctlPath, units: units, logger: logger, eventLoopGroup: eventLoopGroup)
                group.addTask {
                    await withTaskGroup(of: Void.self) { inner in
                        inner.addTask {
                            let resume = await runtime.resume(for: JournalFollower.streamKey)
                            await follower.run(resume: resume) { chunk in await runtime.ingest(chunks: [chunk]) }
                        }
                        inner.addTask { for await _ in stop {} }
                        await inner.next()
                        inner.cancelAll()
                    }
                }
            }
            stopCurrent?.finish()
        }
    }

    /// Lists containers every `containerPollInterval` and follows their demo logs every second,
    /// when Docker is there.
    func containers() async {
        guard FileSystem.exists(configuration.dockerSocketPath) else { return }
        let runtime = self.runtime
        let engine = DockerEngine(socketPath: configuration.dockerSocketPath, eventLoopGroup: eventLoopGroup)
        let sources = ContainerLogSources(procRoot: configuration.systemRoot + "/proc") { await runtime.resume(for: $0) }
        var lastList: ContinuousClock.Instant?
        var stopped = Set<String>()
        while !Task.isCancelled {
            let now = ContinuousClock.now
            if lastList.map({ now - $0 >= configuration.containerPollInterval }) ?? true {
                lastList = now
                do {
                    let containers = try await engine.containers()
                    await runtime.updateContainers(containers.map(\.info))
                    let running = containers.filter { $0.pid > 0 }.map { (id: $0.info.id, pid: $0.pid) }
                    sources.update(running: running)
                    let runningIDs = Set(running.map { ContainerLogSources.shortID($0.id) })
                    stopped = Set(sources.followedContainers.filter { !runningIDs.contains($0) })
                } catch {
                    logger.debug("cannot list containers", metadata: ["error": "\(error)"])
                }
            }
            var more = true
            while more && !Task.isCancelled {
                let result = await sources.poll(now: WallClock.milliseconds(), stopped: stopped)
                await runtime.ingest(chunks: result.chunks, updated: result.updatedStreams, gone: result.goneKeys)
                if result.processesChanged { await runtime.updateProcesses(source: "containers", sources.processes) }
                more = result.more
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}

/// The current metrics interval, set by the configuration watcher and read by the collector loop.
private final class IntervalBox: Sendable {
    private let storage: Mutex<Duration>
    init(_ value: Duration) { storage = Mutex(value) }
    var value: Duration { storage.withLock { $0 } }
    func set(_ value: Duration) { storage.withLock { $0 = value } }
}
