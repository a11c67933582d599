import Foundation
import DVICCLI
import DVICProtocol
import Testing

/// The value-type cores, without I/O.
@Suite struct CoreTests {
    let nodes = [
        CLIModel.NodeSummary(id: "n-abc123", name: "lab-1"),
        CLIModel.NodeSummary(id: "n-abd456", name: "lab-2"),
        CLIModel.NodeSummary(id: "n-xyz789", name: "camera"),
        CLIModel.NodeSummary(id: "n-qqq000", name: "twin"),
        CLIModel.NodeSummary(id: "n-qqq111", name: "twin"),
    ]

    @Test func nodesResolveByIdNameAndUniquePrefix() throws {
        #expect(NodeResolver.resolve("n-abc123", in: nodes) == .found(nodes[0]))
        #expect(NodeResolver.resolve("camera", in: nodes) == .found(nodes[2]))
        #expect(NodeResolver.resolve("n-x", in: nodes) == .found(nodes[2]))
        #expect(NodeResolver.resolve("n-abc", in: nodes) == .found(nodes[0]))
        #expect(NodeResolver.resolve("nope", in: nodes) == .notFound)
        guard case .ambiguous(let both) = NodeResolver.resolve("n-ab", in: nodes) else {
            Issue.record("n-ab should be ambiguous")
            return
        }
        #expect(both.map(\.id) == ["n-abc123", "n-abd456"])
        let error = #expect(throws: CLIError.self) { try NodeResolver.require("twin", in: nodes) }
        #expect(error?.exitCode == .usage)
        #expect(error?.message.contains("n-qqq000") == true && error?.message.contains("n-qqq111") == true)
        #expect((#expect(throws: CLIError.self) { try NodeResolver.require("zzz", in: nodes) })?.exitCode == .notFound)
    }
}

@Suite struct FormattingTests {
    @Test func tablesAlignEveryColumn() {
        var table = TextTable(["NAME", "CPU", "TAGS"], alignments: [.left, .right, .left])
        table.append(["a", "5%", "x"])
        table.append(["longer-name", "100%", ""])
        let lines = table.render().split(separator: "\n").map(String.init)
        #expect(lines == [
            "NAME          CPU  TAGS",
            "a              5%  x",
            "longer-name  100%",
        ])
        #expect(TextTable.width("°C") == 2)
        #expect(TextTable.width("日本") == 4)
    }

    @Test func sparklinesSpanLowToHigh() {
        #expect(Sparkline.render([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█")
        #expect(Sparkline.render([]) == "")
        #expect(Sparkline.render([5, 5, 5]) == "▄▄▄")
        #expect(Sparkline.render(Array(repeating: 1.0, count: 500) + [2], width: 10).count == 10)
        #expect(Sparkline.render([1, .nan, 3]) == "▁█")
    }

    @Test func agesDurationsAndSizes() {
        #expect(HumanFormat.age(since: 1_000, now: 6_000) == "5s ago")
        #expect(HumanFormat.age(since: 0, now: 180_000) == "3m ago")
        #expect(HumanFormat.age(since: 0, now: 7_200_000) == "2h ago")
        #expect(HumanFormat.age(since: nil, now: 0) == "never")
        #expect(HumanFormat.bytes(1536) == "1.5 KiB")
        #expect(HumanFormat.percent(12.34) == "12.3%")
        #expect(HumanFormat.duration(milliseconds: 12) == "12ms")
        #expect(HumanFormat.duration(milliseconds: 184_000) == "3m04s")
        #expect(HumanFormat.printable("a\u{1B}[2Jb\nc") == "a^[[2Jb\\nc")
        #expect(HumanFormat.shortTime("2026-11-28T10:00:00.123Z") == "2026-11-28 10:00:00")
    }

    @Test func timeSpecsAreCheckedBeforeSending() throws {
        #expect(TimeSpec.milliseconds("10m") == 600_000)
        #expect(TimeSpec.milliseconds("1h") == 3_600_000)
        #expect(TimeSpec.milliseconds("500ms") == 500)
        #expect(TimeSpec.milliseconds("soon") == nil)
        #expect(try TimeSpec.since("10m") == "10m")
        #expect(try TimeSpec.since("90") == "90s")
        #expect(try TimeSpec.since("2026-11-28T10:00:00Z") == "2026-11-28T10:00:00Z")
        #expect((#expect(throws: CLIError.self) { try TimeSpec.since("yesterday") })?.exitCode == .usage)
    }

    @Test func exitCodesAreDistinctAndDocumented() {
        let codes = CLIExitCode.allCases.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
        #expect(CLIExitCode.usage.rawValue == 64 && CLIExitCode.auth.rawValue == 77)
        for code in CLIExitCode.allCases { #expect(CLIExitCode.helpTable.contains("\(code.rawValue) ")) }
        #expect(CLIError.http(status: 401, code: "unauthorized", message: "x", what: "y").exitCode == .auth)
        #expect(CLIError.http(status: 403, code: nil, message: nil, what: "y").exitCode == .auth)
        #expect(CLIError.http(status: 404, code: nil, message: nil, what: "y").exitCode == .notFound)
        #expect(CLIError.http(status: 400, code: nil, message: nil, what: "y").exitCode == .usage)
        #expect(CLIError.http(status: 500, code: nil, message: nil, what: "y").exitCode == .serverError)
    }
}

@Suite struct ConnectionTests {
    @Test func flagsWinOverEnvironmentOverTheSavedLogin() throws {
        let saved = CLIConfig(server: "http://saved:8080", token: "saved-token", user: "admin")
        let fromFile = try ConnectionSettings.resolve(serverFlag: nil, tokenFlag: nil, environment: [:], config: saved)
        #expect(fromFile == ConnectionSettings(server: "http://saved:8080", token: "saved-token"))
        let fromEnvironment = try ConnectionSettings.resolve(
            serverFlag: nil, tokenFlag: nil, environment: ["DVIC_SERVER": "http://env:1", "DVIC_TOKEN": "env-token"], config: saved)
        #expect(fromEnvironment == ConnectionSettings(server: "http://env:1", token: "env-token"))
        let fromFlags = try ConnectionSettings.resolve(
            serverFlag: "flag:2", tokenFlag: "flag-token", environment: ["DVIC_SERVER": "http://env:1", "DVIC_TOKEN": "env-token"], config: saved)
        #expect(fromFlags == ConnectionSettings(server: "http://flag:2", token: "flag-token"))
        // The saved token never goes to another server.
        let elsewhere = try ConnectionSettings.resolve(serverFlag: "http://other:9/", tokenFlag: nil, environment: [:], config: saved)
        #expect(elsewhere.token == nil)
        #expect((#expect(throws: CLIError.self) { try elsewhere.requireToken() })?.exitCode == .auth)
        #expect((#expect(throws: CLIError.self) {
            try ConnectionSettings.resolve(serverFlag: nil, tokenFlag: nil, environment: [:], config: CLIConfig())
        })?.exitCode == .usage)
        #expect(ConnectionSettings(server: "https://a.b:1", token: nil).streamURL == "wss://a.b:1/v1/stream")
        #expect(ConnectionSettings(server: "http://a.b:1", token: nil).streamURL == "ws://a.b:1/v1/stream")
    }

    @Test func theSavedLoginIsPrivate() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-core-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let path = try #require(CLIConfig.path(environment: ["HOME": home]))
        #expect(path == home + "/.config/dvic/config.json")
        #expect(try CLIConfig.load(path: path) == CLIConfig())
        try CLIConfig(server: "http://x:1", token: "secret", user: "u").save(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try CLIConfig.load(path: path) == CLIConfig(server: "http://x:1", token: "secret", user: "u"))
    }
}

@Suite struct CommandCoreTests {
    @Test func execProgressCountsAndTheExitCodeNeedsEveryNodeAtZero() {
        var progress = ExecProgress(commandID: "c-1")
        progress.apply(CommandProgress(commandID: "c-1", nodeID: "a", event: .stdout, data: [65], exitCode: -1, durationMs: 0, done: 0, total: 3))
        progress.apply(CommandProgress(commandID: "c-1", nodeID: "a", event: .exit, data: [], exitCode: 0, durationMs: 1, done: 1, total: 3))
        progress.apply(CommandProgress(commandID: "c-2", nodeID: "z", event: .exit, data: [], exitCode: 0, durationMs: 1, done: 1, total: 9))
        progress.apply(CommandProgress(commandID: "c-1", nodeID: "b", event: .exit, data: [], exitCode: 3, durationMs: 1, done: 2, total: 3))
        #expect(progress.line == "2/3 done · 1 ok · 1 failed")
        #expect(!progress.isDone)
        progress.apply(CommandProgress(commandID: "c-1", nodeID: "c", event: .exit, data: [], exitCode: -1, durationMs: 1, done: 3, total: 3))
        #expect(progress.isDone && progress.failed == 2)

        let good = CLIModel.CommandResult(node: "n-1", nodeName: "b-node", exitCode: 0, stdout: "one\ntwo\n")
        let bad = CLIModel.CommandResult(node: "n-2", nodeName: "a", exitCode: nil, reason: "timedOut", stderr: "oops\n")
        let report = ExecReport(CLIModel.CommandState(id: "c-1", state: "done", done: 2, total: 2, results: [good, bad]))
        #expect(report.exitCode == .commandFailed)
        let text = report.render()
        #expect(text.contains("b-node | one\nb-node | two"))
        #expect(text.contains("a      ! oops"))
        #expect(text.contains("timed out"))
        #expect(report.summary == "2 nodes: 1 ok, 1 failed (a: timed out)")
        #expect(ExecReport(CLIModel.CommandState(id: "c", state: "done", done: 1, total: 1, results: [good])).exitCode == .success)
    }

    @Test func shellCoreAttachesForwardsDetachesAndEnds() {
        var core = ShellCore(nodeID: "n-1", nodeName: "lab", size: Terminal.Size(rows: 30, cols: 100))
        #expect(core.typed(Array("early".utf8)).isEmpty)
        #expect(core.attachRequest(join: nil, argv: ["/bin/bash"]) == .ptyAttach(PtyAttach(nodeID: "n-1", sessionID: "", rows: 30, cols: 100, argv: ["/bin/bash"])))
        let attached = core.received(.ptyAttached(PtyAttached(sessionID: "p-1", nodeID: "n-1", scrollback: Array("old".utf8))))
        #expect(attached == [.output(Array("old".utf8)), .send(.ptyResize(PtyResize(sessionID: "p-1", rows: 30, cols: 100)))])
        #expect(core.typed(Array("ls\r".utf8)) == [.send(.ptyInput(PtyInput(sessionID: "p-1", data: Array("ls\r".utf8))))])
        #expect(core.resized(Terminal.Size(rows: 40, cols: 120)) == [.send(.ptyResize(PtyResize(sessionID: "p-1", rows: 40, cols: 120)))])
        #expect(core.received(.ptyOutput(PtyOutput(sessionID: "p-1", data: [0x68]))) == [.output([0x68])])
        #expect(core.received(.ptyOutput(PtyOutput(sessionID: "p-other", data: [0x68]))).isEmpty)
        var detaching = core
        #expect(detaching.typed([0x61, ShellCore.detachKey, 0x62]) == [.send(.ptyInput(PtyInput(sessionID: "p-1", data: [0x61]))), .detach(sessionID: "p-1")])
        #expect(core.received(.ptyClose(PtyClose(sessionID: "p-1", exitCode: 3, reason: "shell exited"))) == [.finish(code: 3, note: nil)])

        var refused = ShellCore(nodeID: "n-1", nodeName: "lab", size: Terminal.Size(rows: 1, cols: 1))
        guard case .fail(let error)? = refused.received(.error(ErrorMessage(code: "not_found", fatal: false, message: "no session"))).first else {
            Issue.record("a refused attach must fail")
            return
        }
        #expect(error.exitCode == .notFound)
    }

    @Test func topSortsByCPUAndFollowsTheStream() {
        let nodes = [CLIModel.NodeSummary(id: "n-1", name: "idle"), CLIModel.NodeSummary(id: "n-2", name: "busy"), CLIModel.NodeSummary(id: "n-3", name: "quiet")]
        let details = [
            "n-1": CLIModel.NodeDetail(nodes[0], metrics: ["cpu.total": 5]),
            "n-2": CLIModel.NodeDetail(nodes[1], metrics: ["cpu.total": 90]),
        ]
        var model = TopModel(nodes: nodes, details: details)
        #expect(model.sorted.map(\.summary.name) == ["busy", "idle", "quiet"])
        model.apply(.metricPoints(MetricPoints(nodeID: "n-1", points: [MetricPoint(name: "cpu.total", timestamp: 1000, value: 99)])))
        model.apply(.nodeStatus(NodeStatus(nodeID: "n-3", name: "quiet", kind: .agent, state: .offline, lastSeen: 1000, agentVersion: "1", tags: [])))
        #expect(model.sorted.map(\.summary.name) == ["idle", "busy", "quiet"])
        #expect(model.nodes["n-3"]?.summary.status == "offline")
        let screen = model.screen(server: "http://s", now: 5000, size: Terminal.Size(rows: 4, cols: 30))
        #expect(screen.count == 3)
        #expect(screen.allSatisfy { TextTable.width($0) <= 30 })
    }

    @Test func nodeFiguresComeFromTheLatestMetrics() {
        let figures = NodeListing.Figures(metrics: ["cpu.total": 12.5, "mem.used": 1, "mem.total": 4, "temp.cpu": 40, "temp.gpu": 55.5])
        #expect(figures.cpuText == "12.5%")
        #expect(figures.memoryText == "25%")
        #expect(figures.temperatureText == "55.5°C")
        #expect(NodeListing.Figures(metrics: [:]).cpuText == "-")
        #expect(NodeListing.demos([CLIModel.Demo(name: "cam", pid: 1, state: "running"), CLIModel.Demo(name: "old", pid: 2, state: "exited")]) == "cam")
    }

    @Test func logLinesLineUp() {
        var formatter = LogFormatter(nodeNames: ["n-1": "lab-1", "n-2": "a-much-longer-name"])
        let entries = [
            CLIModel.LogEntry(node: "n-1", stream: "journald", seq: 1, ts: "2026-11-28T10:00:00.123Z", level: "info", text: "hello"),
            CLIModel.LogEntry(node: "n-2", stream: "demo:x", seq: 1, ts: "2026-11-28T10:00:01.000Z", level: "error", text: "bad\u{1B}"),
        ]
        formatter.fit(entries)
        let lines = entries.map { formatter.line($0) }
        #expect(lines[0] == "2026-11-28 10:00:00.123  lab-1               journald  INFO   hello")
        #expect(lines[1] == "2026-11-28 10:00:01.000  a-much-longer-name  demo:x    ERROR  bad^[")
        #expect(formatter.json(entries[0]).nodeName == "lab-1")
    }
}
