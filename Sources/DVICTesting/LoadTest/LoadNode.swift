public import Crypto
import DVICProtocol
import Foundation
import Synchronization

/// One simulated node of a load test: its agent, and the ledger of what it sent, so
/// that the end of the run can say whether every line arrived exactly once.
///
/// Like the real agent, a node whose connection drops keeps numbering its lines,
/// and once it is back (`connect`, called again by the engine's supervisor) resends
/// everything after the resume point of the new `welcome`. The engine calls `tick`
/// from one driver loop; acknowledgements arrive on the agent's connection task
/// through `acked`. All of them take the node's lock briefly; what goes on the wire is
/// queued under it, so a resend can never be overtaken by a newer batch (the server
/// drops any seq at or below the highest it has taken, so a gap would stay a gap).
public final class LoadNode: Sendable {
    public static let streamID: UInt32 = 1
    public static let streamKey = "demo:loadtest"

    public let index: Int
    public let agent: LeanAgent
    private let shared: Shared

    /// Where the node's session stands.
    enum Connection {
        /// Never connected (or refused): it sends nothing and is not supervised.
        case never
        /// Handshake done, announced, resent: ticks go on the wire.
        case online
        /// The connection dropped; ticks are kept in the ledger until the node is back.
        case offline
        /// The node stopped trying (attempts used up, or reconnecting is off): it makes no
        /// more lines, so the run's loss is what was in flight.
        case gone
    }

    /// The part the agent's observer shares (the agent cannot hold its own node).
    final class Shared: Sendable {
        struct State {
            var ledger: LoadLedger
            var connection = Connection.never
            var drops = 0
            var reconnects = 0
            /// Why the connection ended, for the last few drops.
            var dropReasons: [String] = []
            var carry: Double = 0
            var lastMetrics: Double = -.infinity
            var values: [Double] = []
            /// The metric walk's generator: `Double.random` asks the kernel (getrandom) on
            /// every call, 200,000 system calls a second at 10,000 nodes, about 8 % of the
            /// load generator's CPU.
            var random = SplitMix64(seed: 0)
            var batches = 0
            var firstBatch: LogBatch?
            var droppedOne = false
            var repeatedOne = false
            var resent = false
            var droppedConnection = false
        }
        let state: Mutex<State>
        let measurements: LoadMeasurements
        init(index: Int, measurements: LoadMeasurements) {
            self.measurements = measurements
            state = Mutex(State(ledger: LoadLedger(node: index, streamID: LoadNode.streamID)))
        }

        func acked(_ seq: UInt64) {
            let now = LoadNode.wallMilliseconds()
            state.withLock { $0.ledger.acknowledge(seq, now: now) { measurements.ingestLag(ms: $0) } }
        }
    }

    public init(index: Int, nodeID: String, key: Curve25519.Signing.PrivateKey, compression: Bool = true, measurements: LoadMeasurements) {
        self.index = index
        let shared = Shared(index: index, measurements: measurements)
        self.shared = shared
        self.agent = LeanAgent(
            nodeID: nodeID, privateKey: key, compression: compression ? .init(threshold: 128, dictionaryID: 1) : nil
        ) { message in
            // Acks of an old session that arrive late are as true as any: they count.
            if case .logAck(let ack) = message, ack.streamID == LoadNode.streamID { shared.acked(ack.seq) }
        }
    }

    /// Lines the node counts as sent.
    public var linesSent: Int64 { shared.state.withLock { $0.ledger.lines } }
    /// The last seq the node numbered (put on the wire, or kept for the wire while offline).
    public var lastSeq: UInt64 { shared.state.withLock { $0.ledger.lastSeq } }
    /// The highest seq the server said it stored, over every session.
    public var ackedSeq: UInt64 { shared.state.withLock { $0.ledger.ackedSeq } }
    /// Lines numbered and not yet acknowledged.
    public var unacked: UInt64 { shared.state.withLock { $0.ledger.unacked } }

    /// The node's connection history, for the report.
    public struct Connections: Sendable {
        /// Connections that ended during the run (noticed by `noticeDrop`).
        public var drops: Int
        /// Reconnections that completed the handshake again.
        public var reconnects: Int
        public var resentLines: Int64
        public var dropReasons: [String]
        /// Connected once, and not connected now.
        public var lost: Bool
        /// Stopped trying: its unacknowledged lines will never be.
        public var gone: Bool
    }

    public var connections: Connections {
        let connected = agent.isConnected
        return shared.state.withLock { state in
            Connections(
                drops: state.drops, reconnects: state.reconnects, resentLines: state.ledger.resentRecords, dropReasons: state.dropReasons,
                lost: state.connection != .never && !(state.connection == .online && connected), gone: state.connection == .gone)
        }
    }

    /// Connects (again) and completes the real handshake with the node's key; names the
    /// metrics and opens the log stream on the new session, then resends every line
    /// past the welcome's resume point, before any newer one. Returns the lines resent.
    @discardableResult
    public func connect(url: String, timeout: Duration, metrics: Int) async throws -> Int {
        let welcome = try await agent.connect(url: url, timeout: timeout)
        let resumePoint = welcome.resume.first { $0.key == Self.streamKey }?.lastSeq ?? 0
        let now = Self.wallMilliseconds()
        let announcement = announcement(metrics: metrics)
        return shared.state.withLock { state in
            let resend = state.ledger.resume(after: resumePoint, now: now) { shared.measurements.ingestLag(ms: $0) }
            agent.send(announcement)
            // One frame per batch: a long outage's backlog in one frame could pass the
            // server's message limit.
            for batch in resend { agent.send([.logBatch(batch)]) }
            if state.connection == .offline { state.reconnects += 1 }
            state.connection = .online
            return resend.reduce(0) { $0 + $1.records.count }
        }
    }

    /// What a new session hears first: the metrics' names and the log stream.
    private func announcement(metrics: Int) -> [Message] {
        [
            .metricDescriptors(MetricDescriptors(descriptors: (0..<metrics).map {
                MetricDescriptor(id: UInt32($0 + 1), name: String(format: "load.m%02d", $0 + 1), unit: "", scale: 1, kind: .gauge)
            })),
            .logStreamOpen(LogStreamOpen(
                streamID: Self.streamID, key: Self.streamKey, source: .demo, name: "loadtest-demo", path: "/tmp/dvic_log_loadtest", container: "",
                pid: UInt32(1000 + index % 30000), exe: "/usr/bin/python3", argv: ["python3", "demo.py"], user: "pi", started: 0)),
        ]
    }

    /// True once per drop: the node was online and its connection is gone (ping
    /// timeout, server close, socket error). From then on its ticks are kept for the
    /// resend until `connect` succeeds or `giveUp` is called.
    func noticeDrop() -> Bool {
        guard !agent.isConnected else { return false }
        let reason = String((agent.closeReason ?? "unknown").prefix(160))
        return shared.state.withLock { state in
            guard state.connection == .online else { return false }
            state.connection = .offline
            state.drops += 1
            state.dropReasons = Array((state.dropReasons + [reason]).suffix(4))
            return true
        }
    }

    /// No more attempts: the node stays down for the rest of the run.
    func giveUp(reason: String?) {
        shared.state.withLock { state in
            state.connection = .gone
            if let reason { state.dropReasons = Array((state.dropReasons + [String(reason.prefix(160))]).suffix(4)) }
        }
    }

    /// One pass of the driver: a metric sample when one is due and the log lines of
    /// the last `interval` seconds in one batch, as the real agent sends them. While
    /// the node is offline the lines are numbered and kept, as the agent spools them.
    /// `elapsed` is seconds since the load began (a monotonic clock).
    func tick(elapsed: Double, interval: Double, options: LoadTestOptions) {
        let now = Self.wallMilliseconds()
        shared.state.withLock { state in
            let online: Bool
            switch state.connection {
            case .online: online = true
            case .offline: online = false
            case .never, .gone: return
            }
            var messages: [Message] = []
            if online, elapsed - state.lastMetrics >= options.metricsInterval {
                state.lastMetrics = elapsed
                if state.values.count != options.metrics {
                    state.random = SplitMix64(seed: UInt64(index))
                    state.values = (0..<options.metrics).map { Double(($0 * 37 + index) % 100) }
                }
                // A bounded random walk: values move like real gauges, so the delta
                // coding of the wire form costs what it does in practice.
                for i in state.values.indices {
                    state.values[i] = min(1000, max(0, state.values[i] + Double.random(in: -2...2, using: &state.random)))
                }
                messages.append(.metricSample(MetricSample(
                    timestamp: now, values: state.values.enumerated().map { MetricValue(id: UInt32($0.offset + 1), value: $0.element) })))
            }
            state.carry += options.logRate * interval
            let count = Int(state.carry)
            state.carry -= Double(count)
            var planted: [Message] = []
            if count > 0 {
                let dropLast = options.plant.contains(.dropLine(node: index)) && !state.droppedOne
                let repeatFirst = options.plant.contains(.repeatLine(node: index)) && !state.repeatedOne
                state.droppedOne = state.droppedOne || dropLast
                state.repeatedOne = state.repeatedOne || repeatFirst
                if let batch = state.ledger.append(lines: count, end: now, span: Int64(interval * 1000), dropLast: dropLast, repeatFirst: repeatFirst) {
                    state.batches += 1
                    if state.firstBatch == nil { state.firstBatch = batch }
                    messages.append(.logBatch(batch))
                    if online, options.plant.contains(.resendBatch(node: index)), !state.resent, state.ledger.nextSeq > 3, let first = state.firstBatch {
                        state.resent = true
                        planted.append(.logBatch(first))
                    }
                }
            }
            guard online, !messages.isEmpty else { return }
            agent.send(messages + planted)
            if options.plant.contains(.dropConnection(node: index)), !state.droppedConnection, state.batches >= 5, state.ledger.unacked > 0 {
                // Right after a batch went out, so it (at least) is in flight unacknowledged.
                state.droppedConnection = true
                agent.disconnect()
            }
        }
    }

    static func wallMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
