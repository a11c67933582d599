public import Crypto
import DVICProtocol
import Foundation
import Synchronization

/// One simulated node of a load test: its agent, and the ledger of what it sent, so
/// that the end of the run can say whether every line arrived exactly once.
///
/// The engine calls `tick` from one driver loop; acknowledgements arrive on the
/// agent's connection task through `acked`. Both only take the node's lock briefly.
public final class LoadNode: Sendable {
    public static let streamID: UInt32 = 1
    public static let streamKey = "demo:loadtest"

    public let index: Int
    public let agent: SimulatedAgent
    private let ledger: Ledger

    /// The part the agent's observer shares (the agent cannot hold its own node).
    final class Ledger: Sendable {
        struct State {
            /// Lines the node meant to send (its own numbering 1…lines).
            var lines: Int64 = 0
            var nextSeq: UInt64 = 1
            /// Per batch sent and not yet acknowledged: its last seq and oldest timestamp.
            var pending: [(lastSeq: UInt64, oldest: Int64)] = []
            var pendingStart = 0
            var carry: Double = 0
            var lastMetrics: Double = -.infinity
            var values: [Double] = []
            var firstBatch: LogBatch?
            var droppedOne = false
            var repeatedOne = false
            var resent = false
        }
        let state = Mutex(State())
        let measurements: LoadMeasurements
        init(measurements: LoadMeasurements) { self.measurements = measurements }

        func acked(_ seq: UInt64) {
            let now = LoadNode.wallMilliseconds()
            state.withLock { state in
                while state.pendingStart < state.pending.count, state.pending[state.pendingStart].lastSeq <= seq {
                    measurements.ingestLag(ms: Int(now - state.pending[state.pendingStart].oldest))
                    state.pendingStart += 1
                }
                // Compact now and then rather than shifting an array on every ack.
                if state.pendingStart > 64 {
                    state.pending.removeFirst(state.pendingStart)
                    state.pendingStart = 0
                }
            }
        }
    }

    public init(index: Int, nodeID: String, key: Curve25519.Signing.PrivateKey, compression: Bool = true, measurements: LoadMeasurements) {
        self.index = index
        let ledger = Ledger(measurements: measurements)
        self.ledger = ledger
        self.agent = SimulatedAgent(
            nodeID: nodeID, privateKey: key, keepsMessages: false, compression: compression ? .init(threshold: 128, dictionaryID: 1) : nil
        ) { message in
            if case .logAck(let ack) = message, ack.streamID == LoadNode.streamID { ledger.acked(ack.seq) }
        }
    }

    /// Lines the node counts as sent.
    public var linesSent: Int64 { ledger.state.withLock { $0.lines } }
    /// The last seq the node put on the wire.
    public var lastSeq: UInt64 { ledger.state.withLock { $0.nextSeq - 1 } }

    /// After the handshake: names the metrics and opens the log stream.
    public func announce(metrics: Int) {
        agent.describe((0..<metrics).map { MetricDescriptor(id: UInt32($0 + 1), name: String(format: "load.m%02d", $0 + 1), unit: "", scale: 1, kind: .gauge) })
        agent.send([.logStreamOpen(LogStreamOpen(
            streamID: Self.streamID, key: Self.streamKey, source: .demo, name: "loadtest-demo", path: "/tmp/dvic_log_loadtest", container: "",
            pid: UInt32(1000 + index % 30000), exe: "/usr/bin/python3", argv: ["python3", "demo.py"], user: "pi", started: 0))])
    }

    /// One pass of the driver: a metric sample when one is due and the log lines of
    /// the last `interval` seconds in one batch, as the real agent sends them.
    /// `elapsed` is seconds since the load began (a monotonic clock).
    func tick(elapsed: Double, interval: Double, options: LoadTestOptions) {
        let now = Self.wallMilliseconds()
        var messages: [Message] = []
        var planted: [Message] = []
        ledger.state.withLock { state in
            if elapsed - state.lastMetrics >= options.metricsInterval {
                state.lastMetrics = elapsed
                if state.values.count != options.metrics {
                    state.values = (0..<options.metrics).map { Double(($0 * 37 + index) % 100) }
                }
                // A bounded random walk: values move like real gauges, so the delta
                // coding of the wire form costs what it does in practice.
                for i in state.values.indices {
                    state.values[i] = min(1000, max(0, state.values[i] + Double.random(in: -2...2)))
                }
                messages.append(.metricSample(MetricSample(
                    timestamp: now, values: state.values.enumerated().map { MetricValue(id: UInt32($0.offset + 1), value: $0.element) })))
            }
            state.carry += options.logRate * interval
            let count = Int(state.carry)
            state.carry -= Double(count)
            guard count > 0 else { return }
            let span = Int64(interval * 1000)
            var records: [LogRecord] = []
            records.reserveCapacity(count)
            for i in 0..<count {
                state.lines += 1
                // Spread over the interval the batch covers, oldest first.
                let timestamp = now - span + span * Int64(i + 1) / Int64(count)
                records.append(LogRecord(timestamp: timestamp, severity: state.lines % 50 == 0 ? .warn : .info, text: Self.text(node: index, line: state.lines)))
            }
            if options.plant.contains(.dropLine(node: index)), !state.droppedOne {
                // Counted in `lines` above, never put on the wire.
                state.droppedOne = true
                records.removeLast()
            }
            if options.plant.contains(.repeatLine(node: index)), !state.repeatedOne, let first = records.first {
                state.repeatedOne = true
                records.append(first)
            }
            guard !records.isEmpty else { return }
            let batch = LogBatch(streamID: Self.streamID, firstSeq: state.nextSeq, records: records)
            state.nextSeq += UInt64(records.count)
            state.pending.append((state.nextSeq - 1, records[0].timestamp))
            if state.firstBatch == nil { state.firstBatch = batch }
            messages.append(.logBatch(batch))
            if options.plant.contains(.resendBatch(node: index)), !state.resent, state.nextSeq > 3, let first = state.firstBatch {
                state.resent = true
                planted.append(.logBatch(first))
            }
        }
        if !messages.isEmpty { agent.send(messages + planted) }
    }

    /// A log-like line of ~100 bytes with a unique token, as real lines have.
    static func text(node: Int, line: Int64) -> String {
        let verbs = ["GET", "POST", "connect", "retry", "frame", "sensor", "camera", "upload"]
        let nouns = ["inference", "pipeline", "buffer", "socket", "model", "detector", "gpio", "battery"]
        return "\(verbs[Int(line) % verbs.count]) /api/v1/\(nouns[(Int(line) / 7 + node) % nouns.count]) node=\(node) line=\(line) status=\(200 + Int(line) % 5) took=\(Int(line) &* 31 % 997)ms fps=\(Int(line) % 60) ok"
    }

    static func wallMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
