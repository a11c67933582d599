import Crypto
import DVICProtocol
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Testing

@testable import DVICAgentCore

/// A one-connection WebSocket server on loopback that plays the DVIC server's part with the real
/// frame codec: enough to drive a whole `Agent` through its `AgentConnection`.
struct FakeServer {
    enum Upgrade {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    let channel: NIOAsyncChannel<EventLoopFuture<Upgrade>, Never>
    var port: Int { channel.channel.localAddress!.port! }

    static func start() async throws -> FakeServer {
        let channel: NIOAsyncChannel<EventLoopFuture<Upgrade>, Never> = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
                        maxFrameSize: 4 << 20,
                        shouldUpgrade: { channel, head in
                            channel.eventLoop.makeSucceededFuture(head.uri == "/v1/agent" ? HTTPHeaders() : nil)
                        },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                .websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                            }
                        })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: .init(
                            upgradeConfiguration: NIOTypedHTTPServerUpgradeConfiguration(
                                upgraders: [upgrader],
                                notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(.refused) })))
                }
            }
        return FakeServer(channel: channel)
    }

    /// Runs `session` on the first WebSocket connection, with a reader of decoded messages and a
    /// writer of messages.
    func serveOne(
        _ session: (_ next: () async throws -> DVICProtocol.Message, _ send: ([DVICProtocol.Message]) async throws -> Void) async throws -> Void
    ) async throws {
        try await channel.executeThenClose { inbound in
            for try await upgrade in inbound {
                guard case .websocket(let socket) = try await upgrade.get() else { continue }
                try await socket.executeThenClose { frames, outbound in
                    var decoder = FrameDecoder()
                    var encoder = try FrameEncoder()
                    var pending: [DVICProtocol.Message] = []
                    var iterator = frames.makeAsyncIterator()
                    try await session(
                        {
                            while pending.isEmpty {
                                guard let frame = try await iterator.next() else { throw CancellationError() }
                                switch frame.opcode {
                                case .binary: pending += try decoder.decode(message: frame.unmaskedData)
                                case .ping: try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                                case .connectionClose: throw CancellationError()
                                default: continue
                                }
                            }
                            return pending.removeFirst()
                        },
                        { messages in
                            try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, data: try encoder.encode(messages)))
                        })
                    try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer(bytes: [0x03, 0xE8])))
                }
                return
            }
        }
    }
}

@Suite("End to end: an Agent against a WebSocket server on loopback", .serialized)
struct AgentEndToEndTests {
    @Test func handshakeLogsMetricsAndACommand() async throws {
        let state = TemporaryDirectory("dvic-e2e-state")
        let logs = TemporaryDirectory("dvic-e2e-logs")
        defer {
            state.remove()
            logs.remove()
        }
        let key = try AgentIdentity.loadOrCreateKey(stateDirectory: state.path)
        try AgentIdentity.saveNodeID("node-e2e", stateDirectory: state.path)
        let token = "EnDtOeNd12345678"
        try logs.write("dvic_log_\(token)", headerLine(pid: getpid(), name: "e2e", started: WallClock.milliseconds()) + recordLine("hello server") + recordLine("second", level: "ERROR"))

        let server = try await FakeServer.start()
        var configuration = AgentConfiguration()
        configuration.serverURL = "http://127.0.0.1:\(server.port)"
        configuration.stateDirectory = state.path
        configuration.logDirectory = logs.path
        configuration.journald = .none
        configuration.dockerSocketPath = state.file("no-docker.sock")
        configuration.synchronizesSpool = false
        let agent = Agent(configuration: configuration, logger: testLogger)
        let nonce = (0..<32).map { UInt8($0) }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await agent.run() }
            try await server.serveOne { next, send in
                try await send([.challenge(Challenge(versions: [1], nonce: nonce, serverTime: WallClock.milliseconds(), capabilities: ["deflate", "zdict:1"]))])
                guard case .hello(let hello) = try await next() else {
                    Issue.record("expected hello")
                    return
                }
                #expect(hello.nodeID == "node-e2e")
                #expect(key.publicKey.isValidSignature(hello.signature, for: HelloSignature.signedBytes(nonce: nonce, nodeID: "node-e2e")))
                try await send([.welcome(Welcome(sessionID: "e2e", heartbeatSeconds: 30, config: [KeyValue("interval_ms", "500")], resume: []))])

                var streams: [UInt32: String] = [:]
                var texts: [String] = []
                var sawInventory = false
                var sawSample = false
                while texts.count < 2 || !sawInventory || !sawSample {
                    switch try await next() {
                    case .inventory(let inventory): sawInventory = inventory.attributes.contains { $0.key == "hostname" }
                    case .metricSample: sawSample = true
                    case .logStreamOpen(let open): streams[open.streamID] = open.key
                    case .logBatch(let batch):
                        #expect(streams[batch.streamID] == "demo:\(token)")
                        texts += batch.records.map(\.text)
                        try await send([.logAck(LogAck(streamID: batch.streamID, seq: batch.firstSeq + UInt64(batch.records.count) - 1))])
                    default: continue
                    }
                }
                #expect(texts == ["hello server", "second"])

                try await send([.commandRequest(CommandRequest(commandID: "cmd", mode: .shell, argv: ["echo from the agent"], timeoutMs: 10_000, maxOutputBytes: 0))])
                var output = ""
                while true {
                    let message = try await next()
                    if case .commandOutput(let chunk) = message { output += String(decoding: chunk.data, as: UTF8.self) }
                    if case .commandExit(let exit) = message {
                        #expect(exit.reason == .exited && exit.exitCode == 0)
                        break
                    }
                }
                #expect(output == "from the agent\n")
                try await send([.ping(Ping(nonce: 77))])
                while true {
                    if case .pong(let pong) = try await next() {
                        #expect(pong.nonce == 77)
                        break
                    }
                }
            }
            group.cancelAll()
        }
        // The acknowledgement reached the spool on disk.
        let spool = try Spool(configuration: Spool.Configuration(directory: state.file("spool"), synchronizes: false), logger: testLogger)
        #expect(spool.acknowledged(for: "demo:\(token)") == 2)
        #expect(spool.persistedCheckpoint(for: "demo:\(token)")?.seq == 2)
    }
}
