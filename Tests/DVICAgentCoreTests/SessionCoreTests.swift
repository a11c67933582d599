import Crypto
import DVICProtocol
import Foundation
import Testing

@testable import DVICAgentCore

/// A deterministic generator for tests (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Session core, identity, backoff, configuration")
struct SessionCoreTests {
    static let identity = AgentIdentity(nodeID: "node-1", privateKey: Curve25519.Signing.PrivateKey())
    static let nonce = [UInt8](repeating: 7, count: 32)

    static func established(now: Int64 = 0) -> AgentSessionCore {
        var core = AgentSessionCore(identity: identity, now: now)
        _ = core.receive(.challenge(Challenge(versions: [1], nonce: nonce, serverTime: 0, capabilities: ["deflate", "zdict:1"])), now: now)
        _ = core.receive(.welcome(Welcome(sessionID: "s", heartbeatSeconds: 10, config: [], resume: [])), now: now)
        return core
    }

    @Test func challengeGetsASignedHello() throws {
        var core = AgentSessionCore(identity: Self.identity, agentVersion: "9.9.9", now: 0)
        let directives = core.receive(
            .challenge(Challenge(versions: [1, 2], nonce: Self.nonce, serverTime: 5, capabilities: ["deflate", "zdict:1"])), now: 1)
        guard case .send(let messages) = directives.first, case .hello(let hello) = messages.first else {
            Issue.record("no hello: \(directives)")
            return
        }
        #expect(hello.version == 1 && hello.nodeID == "node-1" && hello.agentVersion == "9.9.9")
        #expect(hello.capabilities.contains("zdict:1"))
        let valid = Self.identity.privateKey.publicKey.isValidSignature(
            hello.signature, for: HelloSignature.signedBytes(nonce: Self.nonce, nodeID: "node-1"))
        #expect(valid)
        #expect(core.dictionaryID == 1)
        #expect(core.phase == .awaitingWelcome)
        let welcome = core.receive(.welcome(Welcome(sessionID: "abc", heartbeatSeconds: 20, config: [KeyValue("interval_ms", "2000")], resume: [ResumePoint(key: "journald", lastSeq: 9)])), now: 2)
        guard case .established(let received) = welcome.first else {
            Issue.record("not established: \(welcome)")
            return
        }
        #expect(received.resume == [ResumePoint(key: "journald", lastSeq: 9)])
        #expect(core.isEstablished && core.sessionID == "abc" && core.heartbeatMilliseconds == 20_000)
    }

    @Test func refusals() {
        var early = AgentSessionCore(identity: Self.identity, now: 0)
        guard case .close(let code, _) = early.receive(.ping(Ping(nonce: 1)), now: 0).last else {
            Issue.record("no close")
            return
        }
        #expect(code == 1002)
        var old = AgentSessionCore(identity: Self.identity, now: 0)
        let directives = old.receive(.challenge(Challenge(versions: [2], nonce: Self.nonce, serverTime: 0, capabilities: [])), now: 0)
        guard case .send(let messages) = directives.first, case .error(let error) = messages.first else {
            Issue.record("no error")
            return
        }
        #expect(error.code == "unsupported_version" && error.fatal)
        var fatal = Self.established()
        guard case .close = fatal.receive(.error(ErrorMessage(code: "bad_signature", fatal: true, message: "")), now: 0).last else {
            Issue.record("no close on a fatal error")
            return
        }
        #expect(fatal.phase == .closed)
        var slow = AgentSessionCore(identity: Self.identity, now: 0)
        #expect(slow.tick(now: 10_000).isEmpty)
        guard case .close(let timeoutCode, _) = slow.tick(now: 31_000).last else {
            Issue.record("no handshake timeout")
            return
        }
        #expect(timeoutCode == 1008)
    }

    @Test func reactionsOnceEstablished() {
        var core = Self.established()
        let (id, isNew) = core.streamID(for: "demo:x")
        #expect(isNew && !core.streamID(for: "demo:x").isNew)
        guard case .acknowledge(let key, let seq) = core.receive(.logAck(LogAck(streamID: id, seq: 42)), now: 0).first else {
            Issue.record("no acknowledge")
            return
        }
        #expect(key == "demo:x" && seq == 42)
        let result1 = core.receive(.logAck(LogAck(streamID: 99, seq: 1)), now: 0)
        #expect(result1.isEmpty)
        guard case .send(let pong) = core.receive(.ping(Ping(nonce: 5)), now: 0).first else {
            Issue.record("no pong")
            return
        }
        #expect(pong == [.pong(Pong(nonce: 5))])
        let request = CommandRequest(commandID: "c", mode: .shell, argv: ["true"], timeoutMs: 0, maxOutputBytes: 0)
        guard case .runCommand(let run) = core.receive(.commandRequest(request), now: 0).first else {
            Issue.record("no run")
            return
        }
        #expect(run == request)
        guard case .cancelCommand("c") = core.receive(.commandCancel(CommandCancel(commandID: "c")), now: 0).first else {
            Issue.record("no cancel")
            return
        }
        guard case .openPty = core.receive(.ptyOpen(PtyOpen(sessionID: "p", rows: 1, cols: 1, argv: [], env: [])), now: 0).first,
            case .ptyInput = core.receive(.ptyInput(PtyInput(sessionID: "p", data: [1])), now: 0).first,
            case .resizePty = core.receive(.ptyResize(PtyResize(sessionID: "p", rows: 2, cols: 2)), now: 0).first,
            case .closePty = core.receive(.ptyClose(PtyClose(sessionID: "p", exitCode: 0, reason: "")), now: 0).first,
            case .applyConfig(let config) = core.receive(.configUpdate(ConfigUpdate(config: [KeyValue("a", "b")])), now: 0).first
        else {
            Issue.record("terminal or config directives missing")
            return
        }
        #expect(config == [KeyValue("a", "b")])
        #expect(core.closeStream(key: "demo:x") == id)
        #expect(core.key(forStreamID: id) == nil)
        let result2 = core.streamID(for: "demo:y").id
        #expect(result2 == id)  // ids are reused
    }

    @Test func heartbeat() {
        var core = Self.established(now: 0)
        let result3 = core.tick(now: 5_000).isEmpty
        #expect(result3)
        guard case .send(let messages) = core.tick(now: 10_000).first, case .ping(let ping) = messages.first else {
            Issue.record("no ping")
            return
        }
        let result4 = core.tick(now: 15_000).isEmpty
        #expect(result4)
        _ = core.receive(.pong(Pong(nonce: ping.nonce)), now: 15_500)
        guard case .send = core.tick(now: 20_000).first else {
            Issue.record("no second ping")
            return
        }
        let result5 = core.tick(now: 45_000).isEmpty
        #expect(result5)
        guard case .close = core.tick(now: 50_001).last else {
            Issue.record("no close after missed pongs")
            return
        }
    }

    @Test func backoffIsExponentialWithFullJitterAndCapped() {
        var backoff = Backoff(base: .milliseconds(500), cap: .seconds(30))
        var generator = SeededGenerator(state: 42)
        var ceilings: [Duration] = []
        for _ in 0..<12 {
            let ceiling = backoff.ceiling
            ceilings.append(ceiling)
            let delay = backoff.next(using: &generator)
            #expect(delay >= .zero && delay <= ceiling)
        }
        #expect(ceilings.prefix(4) == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4)])
        #expect(ceilings.last == .seconds(30))
        var again = Backoff()
        var same = SeededGenerator(state: 42)
        var other = SeededGenerator(state: 42)
        var copy = again
        let left = again.next(using: &same)
        let right = copy.next(using: &other)
        #expect(left == right)
        backoff.reset()
        #expect(backoff.attempt == 0 && backoff.ceiling == .milliseconds(500))
    }

    @Test func serverURLs() throws {
        #expect(try ServerURL.agentWebSocketURL("http://10.0.0.5:8080") == "ws://10.0.0.5:8080/v1/agent")
        #expect(try ServerURL.agentWebSocketURL("https://dvic.example.org/") == "wss://dvic.example.org/v1/agent")
        #expect(try ServerURL.agentWebSocketURL("ws://h:1/v1/agent") == "ws://h:1/v1/agent")
        #expect(try ServerURL.agentWebSocketURL("wss://h/base") == "wss://h/base/v1/agent")
        #expect(throws: AgentError.self) { try ServerURL.agentWebSocketURL("ftp://h") }
        #expect(throws: AgentError.self) { try ServerURL.agentWebSocketURL("h:80") }
    }

    @Test func configurationLayers() throws {
        let file = """
            # agent settings
            server = http://file:8080
            log-dir = /var/log/demos
            interval = 2
            tag = lab
            tag = floor1
            journald-units = ssh.service, cron.service
            """
        let configuration = try AgentConfiguration.load(
            arguments: ["--config", "/x.conf", "--interval=500ms", "--tag", "cli", "--name", "pi-7"],
            readFile: { $0 == "/x.conf" ? file : nil })
        #expect(configuration.serverURL == "http://file:8080")
        #expect(configuration.logDirectory == "/var/log/demos")
        #expect(configuration.interval == .milliseconds(500))
        #expect(configuration.tags == ["cli"])
        #expect(configuration.name == "pi-7")
        #expect(configuration.journald == .units(["ssh.service", "cron.service"]))
        #expect(configuration.stateDirectory == "/var/lib/dvic")
        let fileOnly = try AgentConfiguration.load(arguments: ["--config", "/x.conf"], readFile: { _ in file })
        #expect(fileOnly.tags == ["lab", "floor1"])
        #expect(throws: AgentError.self) { try AgentConfiguration.load(arguments: ["--bogus", "1"], readFile: { _ in nil }) }
        #expect(throws: AgentError.self) { try AgentConfiguration.load(arguments: ["--config", "/missing"], readFile: { _ in nil }) }

        var live = AgentConfiguration()
        let changes = live.apply(server: [
            KeyValue("interval_ms", "5000"), KeyValue("journald.units", "-"), KeyValue("log.files", "/a.log,/b.log"),
            KeyValue("commands.max_parallel", "nope"), KeyValue("unknown", "x"),
        ])
        #expect(changes.interval && changes.journald && changes.logFiles && !changes.commands)
        #expect(live.interval == .seconds(5) && live.journald == .none && live.logFiles == ["/a.log", "/b.log"])
        #expect(live.commandsMaxParallel == 4)
    }

    @Test func identityFiles() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        #expect(try AgentIdentity.load(stateDirectory: directory.path) == nil)
        let key = try AgentIdentity.loadOrCreateKey(stateDirectory: directory.path)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.file("agent.key"))
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try AgentIdentity.loadOrCreateKey(stateDirectory: directory.path).rawRepresentation == key.rawRepresentation)
        try AgentIdentity.saveNodeID("node-42", stateDirectory: directory.path)
        let identity = try #require(try AgentIdentity.load(stateDirectory: directory.path))
        #expect(identity.nodeID == "node-42")
        #expect(identity.publicKey == Array(key.publicKey.rawRepresentation))
        let signature = try identity.signHello(nonce: Self.nonce)
        #expect(key.publicKey.isValidSignature(signature, for: HelloSignature.signedBytes(nonce: Self.nonce, nodeID: "node-42")))
    }
}
