import DVICProtocol
import Foundation
import NIOPosix
import Testing

@testable import DVICAgentCore

@Suite("Terminals: real PTYs")
struct PtyTests {
    static func output(_ messages: [DVICProtocol.Message], _ id: String) -> String {
        var bytes: [UInt8] = []
        for case .ptyOutput(let output) in messages where output.sessionID == id { bytes += output.data }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func close(_ messages: [DVICProtocol.Message], _ id: String) -> PtyClose? {
        for case .ptyClose(let close) in messages where close.sessionID == id { return close }
        return nil
    }

    @Test func resizeEchoAndExitCode() async {
        let collector = MessageCollector()
        let manager = PtyManager(logger: testLogger, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, emit: collector.emit)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await manager.run() }
            manager.open(PtyOpen(sessionID: "s1", rows: 24, cols: 80, argv: ["/bin/sh"], env: [KeyValue("PS1", "$ ")]))
            manager.input(PtyInput(sessionID: "s1", data: Array("stty size\n".utf8)))
            #expect(await eventually { Self.output(await collector.messages, "s1").contains("24 80") })
            manager.resize(PtyResize(sessionID: "s1", rows: 50, cols: 132))
            manager.input(PtyInput(sessionID: "s1", data: Array("stty size\n".utf8)))
            #expect(await eventually { Self.output(await collector.messages, "s1").contains("50 132") })
            manager.input(PtyInput(sessionID: "s1", data: Array("echo h''i\n".utf8)))
            #expect(await eventually { Self.output(await collector.messages, "s1").contains("\r\nhi\r\n") })
            manager.input(PtyInput(sessionID: "s1", data: Array("exit 3\n".utf8)))
            #expect(await eventually { Self.close(await collector.messages, "s1") != nil })
            let close = Self.close(await collector.messages, "s1")
            #expect(close?.exitCode == 3)
            #expect(close?.reason == "exited")
            #expect(await eventually { await manager.sessionIDs.isEmpty })
            group.cancelAll()
        }
    }

    @Test func severalSessionsAndCloseFromTheServer() async {
        let collector = MessageCollector()
        let manager = PtyManager(
            configuration: .init(closeGrace: .seconds(1)), logger: testLogger, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            emit: collector.emit)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await manager.run() }
            manager.open(PtyOpen(sessionID: "a", rows: 10, cols: 40, argv: ["/bin/sh"], env: []))
            manager.open(PtyOpen(sessionID: "b", rows: 10, cols: 40, argv: ["/bin/sh"], env: []))
            manager.input(PtyInput(sessionID: "a", data: Array("echo A$((1+1))\n".utf8)))
            manager.input(PtyInput(sessionID: "b", data: Array("echo B$((2+2))\n".utf8)))
            #expect(await eventually { Self.output(await collector.messages, "a").contains("A2") })
            #expect(await eventually { Self.output(await collector.messages, "b").contains("B4") })
            #expect(!Self.output(await collector.messages, "a").contains("B4"))
            manager.close(PtyClose(sessionID: "a", exitCode: 0, reason: ""))
            #expect(await eventually { Self.close(await collector.messages, "a") != nil })
            #expect(Self.close(await collector.messages, "a")?.reason == "closed")
            #expect(Self.close(await collector.messages, "b") == nil)
            manager.input(PtyInput(sessionID: "b", data: Array("exit\n".utf8)))
            #expect(await eventually { Self.close(await collector.messages, "b")?.exitCode == 0 })
            manager.open(PtyOpen(sessionID: "c", rows: 10, cols: 40, argv: ["/no/such/shell"], env: []))
            #expect(await eventually { Self.close(await collector.messages, "c")?.exitCode == -1 })
            group.cancelAll()
        }
    }
}
