import DVICProtocol
import Foundation
import NIOCore
import Synchronization

/// Drives one server with many simulated nodes over the real protocol, measures it,
/// and checks that every log line sent was stored exactly once (issue #9,
/// Benchmarks/README.md). `dvic-loadtest` runs it; tests run it in-process against a
/// `FleetHarness` with a few dozen nodes.
public struct LoadTest: Sendable {
    public let options: LoadTestOptions
    public let coordination: Coordination
    /// Progress lines for people (stderr in the executable).
    public let progress: @Sendable (String) -> Void

    /// How this process shares a run spread over `--processes`.
    public enum Coordination: Sendable {
        /// One process does everything.
        case alone
        /// A child: runs its share, writes `<output>.ready` once connected and its
        /// result to `output` at the end (the executable does the latter).
        case worker(output: String)
        /// The parent: runs share 0, waits for the children's `.ready` files before
        /// the load window, and merges their results before the check.
        case coordinator(outputs: [String], pids: [Int32])
    }

    public init(options: LoadTestOptions, coordination: Coordination = .alone, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.options = options
        self.coordination = coordination
        self.progress = progress
    }

    private var baseURL: String { options.server.hasSuffix("/") ? String(options.server.dropLast()) : options.server }
    var webSocketBase: String {
        baseURL.hasPrefix("https://") ? "wss://" + baseURL.dropFirst(8) : "ws://" + baseURL.dropFirst(baseURL.hasPrefix("http://") ? 7 : 0)
    }
    /// Whether this process does the fleet-wide parts (subscriber, broadcasts, check).
    private var coordinates: Bool { if case .worker = coordination { false } else { true } }

    /// The nodes' ledgers and raw latencies, for a coordinating process to merge.
    public struct WorkerResult: Sendable, Codable {
        public var report: LoadTestReport
        public var linesByNode: [String: Int64]
        public var ingestLag: LatencyHistogram
        public var handshakes: LatencyHistogram
    }

    /// What a worker says once its nodes are connected.
    struct Ready: Codable {
        var authenticated: Int
        var refused: Int
        var seconds: Double
    }

    public func run() async throws(LoadTestError) -> LoadTestReport {
        try await runCollecting().report
    }

    public func runCollecting() async throws(LoadTestError) -> WorkerResult {
        let admin: APIClient
        do {
            admin = try await APIClient.login(baseURL: baseURL, username: options.adminUser, password: options.adminPassword)
        } catch {
            throw LoadTestError(.login, "cannot log in as \(options.adminUser)", cause: error)
        }
        let loadAverage = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "-"
        let measurements = LoadMeasurements()
        let clock = ContinuousClock()

        // Enrollment is provisioning, not connecting: a real fleet is enrolled once.
        progress("enrolling \(options.workerCount > 1 ? "share \(options.workerIndex + 1)/\(options.workerCount) of " : "")\(options.nodes) nodes")
        let enrollStart = clock.now
        let nodes = try await enroll(admin: admin, measurements: measurements)
        let enrollSeconds = Self.seconds(clock.now - enrollStart)

        // The dashboard-stream subscriber follows every node's logs and commands; the
        // broadcasts are timed on a stream of their own, which follows commands only, as
        // `dvic exec` does, so that a broadcast's end is not read behind the dashboard's
        // 20,000 log entries a second.
        let tracker = BroadcastTracker()
        let streamCounts = Mutex<(logs: Int, progress: Int)>((0, 0))
        var subscriber: StreamClient?
        if coordinates && options.subscriber, let token = admin.token {
            subscriber = await follow(kinds: 4 | 8, token: token, role: "the stream subscriber") { message in
                switch message {
                case .logEntries(let entries):
                    let now = LoadNode.wallMilliseconds()
                    for entry in entries.entries { measurements.streamLatency(ms: Int(now - entry.timestamp)) }
                    streamCounts.withLock { $0.logs += entries.entries.count }
                case .commandProgress:
                    streamCounts.withLock { $0.progress += 1 }
                default: break
                }
            }
        }
        var watcher: StreamClient?
        if coordinates && options.broadcastEvery > 0, let token = admin.token {
            watcher = await follow(kinds: 8, token: token, role: "the broadcast watcher (broadcasts are polled instead)") { message in
                if case .commandProgress(let progress) = message { tracker.progress(progress, at: .now) }
            }
        }

        // /proc sampling of the server and of this process for the whole run.
        let serverPID = options.serverPID ?? URL(string: baseURL).flatMap { url in
            ["127.0.0.1", "localhost", "::1"].contains(url.host ?? "") ? ProcessSampler.discoverServer(port: url.port ?? 8080) : nil
        }
        let usage = UsageSampler(server: serverPID)
        let samplerTask = Task { await usage.run() }

        // Connect, at the ramp's pace, a bounded number of handshakes at a time.
        progress("connecting \(nodes.count) nodes")
        var connect = LoadTestReport.Connect(handshake: .init(LatencyHistogram()), enrollSeconds: enrollSeconds)
        let connectStart = clock.now
        let outcomes = await withTaskGroup(of: String?.self) { group -> [String?] in
            var results: [String?] = []
            for (position, node) in nodes.enumerated() {
                if position >= options.connectConcurrency, let result = await group.next() { results.append(result) }
                if options.ramp > 0 {
                    try? await clock.sleep(until: connectStart + .seconds(Double(position) / options.ramp))
                }
                group.addTask {
                    let start = clock.now
                    do {
                        try await node.connect(url: webSocketBase + "/v1/agent", timeout: .seconds(60), metrics: options.metrics)
                        measurements.handshake(ms: Self.milliseconds(clock.now - start))
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
            }
            for await result in group { results.append(result) }
            return results
        }
        let connectEnd = clock.now
        connect.handshake = .init(measurements.handshakes)
        connect.authenticated = outcomes.filter { $0 == nil }.count
        connect.refused = outcomes.count - connect.authenticated
        connect.refusals = Array(Set(outcomes.compactMap { $0 })).sorted().prefix(5).map { $0 }
        if connect.refused == 0 { connect.allAuthenticatedSeconds = Self.seconds(connectEnd - connectStart) }
        switch coordination {
        case .alone: break
        case .worker(let output):
            let ready = Ready(authenticated: connect.authenticated, refused: connect.refused, seconds: Self.seconds(connectEnd - connectStart))
            try? JSONEncoder().encode(ready).write(to: URL(fileURLWithPath: output + ".ready"))
        case .coordinator(let outputs, let pids):
            // Every process connects its own share at the same time; the fleet is
            // connected when the slowest is.
            var pending = Set(outputs)
            let deadline = clock.now + .seconds(900)
            let pidByOutput = Dictionary(uniqueKeysWithValues: zip(outputs, pids))
            while !pending.isEmpty, clock.now < deadline {
                // A worker that died will never be ready.
                if pending.contains(where: { !Self.isAlive(pidByOutput[$0] ?? 0) }) { break }
                for output in pending {
                    guard let data = FileManager.default.contents(atPath: output + ".ready"), let ready = try? JSONDecoder().decode(Ready.self, from: data) else { continue }
                    pending.remove(output)
                    connect.authenticated += ready.authenticated
                    connect.refused += ready.refused
                    if let mine = connect.allAuthenticatedSeconds { connect.allAuthenticatedSeconds = max(mine, ready.seconds) }
                }
                try? await clock.sleep(for: .milliseconds(100))
            }
            if !pending.isEmpty { connect.refused += 1; connect.refusals.append("\(pending.count) worker processes never connected") }
            if connect.refused > 0 { connect.allAuthenticatedSeconds = nil }
        }
        progress("\(connect.authenticated) authenticated, \(connect.refused) refused, in \(String(format: "%.1f", Self.seconds(connectEnd - connectStart))) s")

        // Steady load for `duration`, with broadcasts beside it, then the drain; a node
        // whose connection drops meanwhile reconnects and resends, as the real agent does.
        let before = nodes.reduce((bytes: 0, frames: 0)) { ($0.bytes + $1.agent.bytesSent, $0.frames + $1.agent.framesSent) }
        let loadStart = clock.now
        progress("load for \(options.duration) s")
        let (broadcasts, loadEnd, after, drainSeconds) = await keepingConnected(nodes) {
            let broadcasts = await withTaskGroup(of: LoadTestReport.Broadcasts.self) { group -> LoadTestReport.Broadcasts in
                group.addTask { await drive(nodes, from: loadStart); return LoadTestReport.Broadcasts() }
                if coordinates && options.broadcastEvery > 0 {
                    group.addTask { await broadcast(admin: admin, tracker: tracker, from: loadStart) }
                }
                var merged = LoadTestReport.Broadcasts()
                for await part in group where part.sent > 0 { merged = part }
                return merged
            }
            let loadEnd = clock.now
            let after = nodes.reduce((bytes: 0, frames: 0)) { ($0.bytes + $1.agent.bytesSent, $0.frames + $1.agent.framesSent) }

            // Every line acknowledged, i.e. durably stored and queryable, or the timeout.
            // Lines of a node that gave up will never be: no use waiting for them.
            progress("waiting for the last acknowledgements")
            let drainDeadline = clock.now + .seconds(options.drainTimeout)
            repeat {
                let waiting = nodes.contains { $0.unacked > 0 && !$0.connections.gone }
                if !waiting { break }
                try? await clock.sleep(for: .milliseconds(250))
            } while clock.now < drainDeadline
            return (broadcasts, loadEnd, after, Self.seconds(clock.now - loadEnd))
        }
        var unacked = nodes.reduce(Int64(0)) { $0 + Int64($1.unacked) }

        // Connections: every drop (a last one the supervisor had no time to notice too),
        // the reconnections, and the nodes not back at the end, which fail the run.
        var disconnected = 0
        var reconnects = LoadTestReport.Reconnects()
        var reasonCounts: [String: Int] = [:]
        for node in nodes {
            _ = node.noticeDrop()
            let connections = node.connections
            disconnected += connections.drops
            reconnects.succeeded += connections.reconnects
            reconnects.nodes += connections.reconnects > 0 ? 1 : 0
            reconnects.notReconnected += connections.lost ? 1 : 0
            reconnects.resentLines += connections.resentLines
            for reason in connections.dropReasons { reasonCounts[reason, default: 0] += 1 }
        }
        if disconnected > 0 {
            progress("\(disconnected) connections dropped, \(reconnects.succeeded) reconnections, \(reconnects.notReconnected) nodes not back")
        }
        // Why connections ended, most common first, for the report.
        var disconnectReasons = reasonCounts.sorted { $0.value > $1.value }.prefix(5).map { "\($0.value)× \($0.key)" }
        samplerTask.cancel()
        let sampled = await samplerTask.value

        var linesByNode: [String: Int64] = [:]
        for node in nodes { linesByNode[node.agent.nodeID] = node.linesSent }
        var ingestLag = measurements.ingestLag
        var handshakes = measurements.handshakes
        var workerTraffic = (bytes: 0, frames: 0)
        var workerGenerator: [LoadTestReport.Usage] = []
        if case .coordinator(let outputs, let pids) = coordination {
            for (output, pid) in zip(outputs, pids) {
                let status = await Spawn.wait(pid, timeout: .seconds(options.drainTimeout + 120))
                guard let data = FileManager.default.contents(atPath: output), let result = try? JSONDecoder().decode(WorkerResult.self, from: data) else {
                    connect.refused += 1
                    connect.refusals.append("worker \(output) produced no result (exit status \(status.map(String.init) ?? "none"))")
                    continue
                }
                linesByNode.merge(result.linesByNode) { $1 }
                ingestLag.merge(result.ingestLag)
                handshakes.merge(result.handshakes)
                disconnected += result.report.disconnectedDuringRun
                reconnects.merge(result.report.reconnects)
                disconnectReasons += result.report.disconnectReasons
                unacked += result.report.unackedLines
                workerTraffic.bytes += result.report.traffic.bytes
                workerTraffic.frames += result.report.traffic.frames
                workerGenerator.append(result.report.loadGenerator)
            }
        }
        var delivery = DeliveryCheck(sent: [:], stored: [:])
        var failures: [String] = []
        if coordinates {
            progress("checking what the server stored")
            delivery = try await check(admin: admin, linesByNode: linesByNode)
        }
        if let subscriber { await subscriber.close() }
        if let watcher { await watcher.close() }
        await withTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { await node.agent.close() } }
        }

        if connect.refused > 0 { failures.append("\(connect.refused) connections refused or failed their handshake") }
        if reconnects.notReconnected > 0 { failures.append("\(reconnects.notReconnected) nodes lost their connection and were not back by the end") }
        if unacked > 0 { failures.append("\(unacked) lines never acknowledged") }
        if delivery.lost > 0 { failures.append("\(delivery.lost) lines lost") }
        if delivery.duplicated > 0 { failures.append("\(delivery.duplicated) lines duplicated") }
        if broadcasts.incomplete > 0 { failures.append("\(broadcasts.incomplete) broadcasts without every result") }

        let seconds = Self.seconds(loadEnd - loadStart)
        let lines = linesByNode.values.reduce(0, +)
        let bytes = after.bytes - before.bytes + workerTraffic.bytes
        let frames = after.frames - before.frames + workerTraffic.frames
        let nodeCount = linesByNode.count
        let traffic = LoadTestReport.Traffic(
            seconds: seconds, frames: frames, logLines: lines, bytes: bytes,
            framesPerSecond: Double(frames) / seconds, logLinesPerSecond: Double(lines) / seconds,
            bytesPerSecond: Double(bytes) / seconds,
            bytesPerNodeHour: nodeCount == 0 ? 0 : Double(bytes) / seconds / Double(nodeCount) * 3600)
        var generator = sampled.generator
        for usage in workerGenerator {
            generator.peakRSSBytes = (generator.peakRSSBytes ?? 0) + (usage.peakRSSBytes ?? 0)
            generator.meanCPUPercent = (generator.meanCPUPercent ?? 0) + (usage.meanCPUPercent ?? 0)
            generator.peakCPUPercent = nil
        }
        connect.handshake = .init(handshakes)
        let counts = streamCounts.withLock { $0 }
        var report = LoadTestReport(
            date: ISO8601DateFormatter().string(from: Date()), options: options, processes: options.workerCount, connect: connect, traffic: traffic,
            ingestLag: .init(ingestLag), broadcasts: broadcasts,
            stream: subscriber == nil ? nil : .init(logEntries: counts.logs, commandProgress: counts.progress, latency: .init(measurements.streamLatency)),
            server: sampled.server, loadGenerator: generator, machineMeanCPUPercent: sampled.machinePercent,
            loadAverageAtStart: loadAverage, drainSeconds: drainSeconds, disconnectedDuringRun: disconnected, disconnectReasons: disconnectReasons, reconnects: reconnects, unackedLines: unacked, delivery: delivery, failures: failures)
        if seconds + drainSeconds > 0 { report.storedLinesPerSecond = Double(delivery.rowsStored) / (seconds + drainSeconds) }
        return WorkerResult(report: report, linesByNode: linesByNode, ingestLag: ingestLag, handshakes: measurements.handshakes)
    }

    // MARK: Parts

    private func enroll(admin: APIClient, measurements: LoadMeasurements) async throws(LoadTestError) -> [LoadNode] {
        let indices = Array(stride(from: options.workerIndex, to: options.nodes, by: max(1, options.workerCount)))
        let baseURL = self.baseURL
        let result = await withTaskGroup(of: Result<LoadNode, LoadTestError>.self) { group -> Result<[LoadNode], LoadTestError> in
            var nodes: [LoadNode] = []
            var failure: LoadTestError?
            func collect(_ result: Result<LoadNode, LoadTestError>) {
                switch result {
                case .success(let node): nodes.append(node)
                case .failure(let error): failure = failure ?? error
                }
            }
            for (position, index) in indices.enumerated() {
                if position >= options.enrollConcurrency, let result = await group.next() { collect(result) }
                if failure != nil { break }
                group.addTask {
                    do {
                        let reply = try await admin.post("/v1/enrollments", ["name": "load-\(index)", "ttlSeconds": 3600])
                        guard let token = reply.object["token"] as? String else {
                            return .failure(LoadTestError(.enrollment, "POST /v1/enrollments answered \(reply.status) \(reply.text)"))
                        }
                        let (nodeID, key) = try await SimulatedAgent.enrollKey(baseURL: baseURL, token: token, name: "load-\(index)")
                        return .success(LoadNode(index: index, nodeID: nodeID, key: key, compression: options.compression, measurements: measurements))
                    } catch {
                        return .failure(LoadTestError(.enrollment, "enrolling node \(index) failed", cause: error))
                    }
                }
            }
            for await result in group { collect(result) }
            if let failure { return .failure(failure) }
            return .success(nodes.sorted { $0.index < $1.index })
        }
        return try result.get()
    }

    /// The driver: every `batchInterval` each node sends its batch; nodes are spread
    /// over 25 slots of the interval so the load is even rather than one burst.
    private func drive(_ nodes: [LoadNode], from start: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        let interval = max(0.01, options.batchInterval)
        let slots = 25
        let bySlot = (0..<slots).map { slot in nodes.filter { $0.index % slots == slot } }
        var pass = 0
        // Every loop a tick was handed to: the load ends only once they ran them all, so
        // no line is numbered after the ledgers are read.
        var used: [ObjectIdentifier: any EventLoop] = [:]
        driving: while true {
            for (slot, group) in bySlot.enumerated() {
                let due = start + .seconds(interval * (Double(pass) + Double(slot) / Double(slots)))
                if due - start >= .seconds(options.duration) { break driving }
                try? await clock.sleep(until: due)
                if Task.isCancelled { break driving }
                let elapsed = Self.seconds(clock.now - start)
                // A connected node ticks on its connection's event loop, in one hop per loop
                // for the whole slot: a write from another thread is a hop (and often a
                // wake-up system call) of its own, 29,000 a second at 10,000 nodes.
                // Offline nodes tick here: they keep their lines for the resend.
                var onLoop: [ObjectIdentifier: [LoadNode]] = [:]
                var loops: [ObjectIdentifier: any EventLoop] = [:]
                for node in group {
                    guard let loop = node.agent.eventLoop else {
                        node.tick(elapsed: elapsed, interval: interval, options: options)
                        continue
                    }
                    let key = ObjectIdentifier(loop as AnyObject)
                    loops[key] = loop
                    onLoop[key, default: []].append(node)
                }
                let options = options
                used.merge(loops) { current, _ in current }
                for (key, nodes) in onLoop {
                    loops[key]?.execute {
                        for node in nodes { node.tick(elapsed: elapsed, interval: interval, options: options) }
                    }
                }
            }
            pass += 1
        }
        // A loop runs its tasks in order: once this no-op ran, so did every tick before it.
        for loop in used.values { try? await loop.submit {}.get() }
    }

    /// A `/v1/stream` client subscribed to every node's events of `kinds`, each handed to
    /// `observe`; nil (and said) when it cannot connect.
    private func follow(kinds: UInt64, token: String, role: String, observe: @escaping @Sendable (Message) -> Void) async -> StreamClient? {
        let client = StreamClient(keepsMessages: false, observer: observe)
        do {
            _ = try await client.connect(url: webSocketBase + "/v1/stream", token: token)
            client.send([.subscribe(Subscribe(subscriptionID: 1, kinds: kinds, nodes: [], tags: [], metrics: [], minSeverity: .trace, text: ""))])
            return client
        } catch {
            progress("\(role) could not connect: \(error)")
            return nil
        }
    }

    /// Every `broadcastEvery` seconds: `true` to all nodes, timed until every result
    /// is back (seen on the stream, or polled when there is no subscriber).
    private func broadcast(admin: APIClient, tracker: BroadcastTracker, from start: ContinuousClock.Instant) async -> LoadTestReport.Broadcasts {
        let clock = ContinuousClock()
        var result = LoadTestReport.Broadcasts()
        var histogram = LatencyHistogram()
        var round = 1
        while Self.seconds(clock.now - start) + options.broadcastEvery <= options.duration {
            try? await clock.sleep(until: start + .seconds(options.broadcastEvery * Double(round)))
            round += 1
            let sent = clock.now
            result.sent += 1
            guard let reply = try? await admin.post("/v1/commands", ["targets": ["all": true], "command": "true", "timeoutSeconds": 30]),
                  let id = reply.object["id"] as? String else {
                result.allResultsMs.append(nil)
                result.targets.append(0)
                result.incomplete += 1
                continue
            }
            var finished: (at: ContinuousClock.Instant, total: Int)?
            let deadline = sent + .seconds(60)
            var lastPoll = clock.now
            while finished == nil, clock.now < deadline {
                finished = tracker.finish(of: id)
                if finished != nil { break }
                // The commands stream is the clock; the REST state is the fallback (no
                // watcher, or progress dropped for a slow viewer).
                if clock.now - lastPoll > .seconds(1) {
                    lastPoll = clock.now
                    if let state = try? await admin.get("/v1/commands/\(id)"), state.object["state"] as? String == "done" {
                        finished = (clock.now, (state.object["results"] as? [Any])?.count ?? 0)
                        result.polled += 1
                        break
                    }
                }
                try? await clock.sleep(for: .milliseconds(10))
            }
            if let finished {
                let ms = Self.milliseconds(finished.at - sent)
                histogram.record(ms: ms)
                result.allResultsMs.append(ms)
                result.targets.append(finished.total)
            } else {
                result.allResultsMs.append(nil)
                result.targets.append(0)
                result.incomplete += 1
            }
        }
        result.p50Ms = histogram.percentile(0.5)
        result.p99Ms = histogram.percentile(0.99)
        result.maxMs = histogram.count > 0 ? histogram.maxMs : nil
        return result
    }

    /// Compares the ledgers with `GET /v1/admin/log-counts`.
    func check(admin: APIClient, linesByNode: [String: Int64]) async throws(LoadTestError) -> DeliveryCheck {
        let reply: APIClient.Reply
        do {
            reply = try await admin.get("/v1/admin/log-counts")
        } catch {
            throw LoadTestError(.server, "GET /v1/admin/log-counts failed", cause: error)
        }
        guard reply.status == 200, let streams = reply.object["streams"] as? [[String: Any]] else {
            throw LoadTestError(.server, "GET /v1/admin/log-counts answered \(reply.status) \(reply.text.prefix(200))")
        }
        var stored: [DeliveryCheck.StreamID: DeliveryCheck.Stored] = [:]
        for stream in streams {
            guard let node = stream["node"] as? String, let key = stream["stream"] as? String else { continue }
            func number(_ name: String) -> Int64 { (stream[name] as? NSNumber)?.int64Value ?? 0 }
            stored[.init(node: node, stream: key)] = .init(rows: number("rows"), distinctSeqs: number("distinctSeqs"), minSeq: number("minSeq"), maxSeq: number("maxSeq"))
        }
        var sent: [DeliveryCheck.StreamID: Int64] = [:]
        for (node, lines) in linesByNode { sent[.init(node: node, stream: LoadNode.streamKey)] = lines }
        return DeliveryCheck(sent: sent, stored: stored)
    }

    /// Whether the process runs (a zombie, which nobody reaped yet, does not).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func milliseconds(_ duration: Duration) -> Int { Int((seconds(duration) * 1000).rounded()) }
}
