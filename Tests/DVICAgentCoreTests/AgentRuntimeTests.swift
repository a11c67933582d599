import Crypto
import DVICProtocol
import Foundation
import NIOCore
import Testing

@testable import DVICAgentCore

@Suite("Runtime: a whole session without a socket")
struct AgentRuntimeTests {
    static let identity = AgentIdentity(nodeID: "node-7", privateKey: Curve25519.Signing.PrivateKey())

    /// Encodes what the runtime sends and decodes it as a server would, so ordering mistakes
    /// (a sample before its descriptors, a batch before its stream) fail here.
    static func roundTrip(_ messages: [DVICProtocol.Message], encoder: inout FrameEncoder, decoder: inout FrameDecoder) throws -> [DVICProtocol.Message] {
        guard !messages.isEmpty else { return [] }
        return try decoder.decode(message: try encoder.encode(messages))
    }

    @Test func handshakeDeliveryAndAcknowledgement() async throws {
        let state = TemporaryDirectory()
        defer { state.remove() }
        let spool = try Spool(configuration: Spool.Configuration(directory: state.path, synchronizes: false), logger: testLogger)
        let runtime = AgentRuntime(configuration: AgentConfiguration(), spool: spool, logger: testLogger)
        let info = LogStreamInfo(key: "demo:runtime01", source: .demo, name: "cam", pid: 12)
        let records = (1...3).map { DVICProtocol.LogRecord(timestamp: Int64($0), severity: .info, text: "r\($0)") }
        await runtime.ingest(chunks: [LogChunk(info: info, firstSeq: 1, records: records, checkpoint: SourceCheckpoint(seq: 3, position: "1:1:9"))])
        var core = MetricsCollectorCore()
        await runtime.recordMetrics(core.update(CollectorTests.snapshot(at: 1, busy: 10, rx: 0)))
        await runtime.recordMetrics(core.update(CollectorTests.snapshot(at: 2, busy: 20, rx: 10)))
        await runtime.updateInventory([KeyValue("hostname", "box")])

        let wakeups = await runtime.connectionOpened(identity: Self.identity, now: WallClock.milliseconds())
        var iterator = wakeups.makeAsyncIterator()
        var encoder = try FrameEncoder()
        var decoder = FrameDecoder()
        await runtime.receive(.challenge(Challenge(versions: [1], nonce: [UInt8](repeating: 1, count: 32), serverTime: 0, capabilities: ["zdict:1"])))
        _ = await iterator.next()
        let hello = await runtime.takeOutbound()
        guard case .hello = hello.messages.first else {
            Issue.record("no hello: \(hello.messages)")
            return
        }
        #expect(hello.dictionaryID == 1)
        await runtime.receive(.welcome(Welcome(sessionID: "s", heartbeatSeconds: 15, config: [], resume: [ResumePoint(key: info.key, lastSeq: 1)])))
        let opened = try Self.roundTrip(await runtime.takeOutbound().messages, encoder: &encoder, decoder: &decoder)
        let types = opened.map(\.type)
        #expect(types.prefix(3) == [.inventory, .metricDescriptors, .processStates])
        #expect(types.filter { $0 == .metricSample }.count == 2)
        let open = opened.compactMap { if case .logStreamOpen(let open) = $0 { open } else { nil } }.first
        #expect(open?.key == info.key && open?.name == "cam" && open?.pid == 12)
        let batch = opened.compactMap { if case .logBatch(let batch) = $0 { batch } else { nil } }.first
        #expect(batch?.firstSeq == 2 && batch?.records.map(\.text) == ["r2", "r3"])
        #expect(batch?.streamID == open?.streamID)

        // The server acknowledges: the spool forgets and persists the source position.
        await runtime.receive(.logAck(LogAck(streamID: batch!.streamID, seq: 3)))
        #expect(await runtime.acknowledged(for: info.key) == 3)
        #expect(await runtime.persistedCheckpoint(for: info.key)?.position == "1:1:9")

        // New records go out on the same stream without a second open.
        await runtime.ingest(chunks: [LogChunk(info: info, firstSeq: 4, records: [records[0]], checkpoint: nil)])
        let more = try Self.roundTrip(await runtime.takeOutbound().messages, encoder: &encoder, decoder: &decoder)
        #expect(more.map(\.type) == [.logBatch])

        // A ping is answered, a demo change is pushed, commands are not run without a runner.
        await runtime.receive(.ping(Ping(nonce: 3)))
        await runtime.updateProcesses(source: "host", [DemoProcess(key: info.key, name: "cam", pid: 12, startTicks: 5, state: .running, changedAt: 1)])
        let control = await runtime.takeOutbound().messages
        #expect(control.map(\.type) == [.pong, .processStates])

        // The stream's file is gone and everything is acknowledged: it is closed.
        await runtime.ingest(chunks: [], gone: [info.key])
        await runtime.receive(.logAck(LogAck(streamID: batch!.streamID, seq: 4)))
        await runtime.housekeeping(now: WallClock.milliseconds())
        #expect(await runtime.takeOutbound().messages.map(\.type) == [.logStreamClose])

        // A protocol error is answered with an error and a close.
        await runtime.protocolError(.badVarint)
        let closing = await runtime.takeOutbound()
        #expect(closing.messages.map(\.type) == [.error])
        #expect(closing.close?.code == 1002)
        await runtime.connectionClosed()
        #expect(await !runtime.isEstablished)
    }
}
