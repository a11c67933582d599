import DVICProtocol
import DVICTesting
import Foundation
import Testing

/// `dvic shell` and `dvic top` in a real terminal (tmux).
@Suite(.serialized) struct TerminalTests {
    func requireTmux() throws {
        guard Tmux.isInstalled else {
            throw HarnessError("tmux is needed for the terminal tests: apt-get install -y tmux (tools/test installs it)")
        }
    }

    @Test func shellEchoesResizesAndExitsWithTheRemoteCode() async throws {
        try requireTmux()
        let fleet = try await CLIFleet.start()
        let agents = try await fleet.agents(1)
        let tmux = Tmux()
        let run = try Tmux.script(dvic: ["shell", "sim-0", "--command", "/bin/bash"], environment: fleet.environment, directory: fleet.home)
        try await tmux.start(script: run.script, cols: 100, rows: 30)

        // The simulated node's prompt, then typing, echoed back through the node.
        #expect(await tmux.waitForScreen("sim$"), "\(tmux.lastScreen)")
        #expect(await agents[0].waitForMessage { if case .ptyOpen(let open) = $0 { open.argv == ["/bin/bash"] } else { false } })
        try await tmux.keys("echo hi")
        try await tmux.keys("Enter", literal: false)
        #expect(await tmux.waitForScreen("sim$ echo hi"), "\(tmux.lastScreen)")
        #expect(await agents[0].waitForMessage { if case .ptyInput(let input) = $0 { String(decoding: input.data, as: UTF8.self).contains("\r") } else { false } })

        // The window size at start and after a resize (SIGWINCH).
        #expect(await agents[0].waitForMessage { message in
            if case .ptyResize(let resize) = message { resize.cols == 100 } else if case .ptyOpen(let open) = message { open.cols == 100 } else { false }
        })
        try await tmux.resize(cols: 120, rows: 40)
        #expect(await agents[0].waitForMessage { if case .ptyResize(let resize) = $0 { resize.rows == 40 && resize.cols == 120 } else { false } },
                "\(agents[0].received.filter { if case .ptyResize = $0 { true } else { false } })")

        // `exit 3` ends the session with 3, which becomes dvic's exit code.
        try await tmux.keys("exit 3")
        try await tmux.keys("Enter", literal: false)
        #expect(await Tmux.waitForStatus(run.status) == 3, "\(tmux.lastScreen)")
        // Raw mode was undone.
        let stty = (try? String(contentsOfFile: run.stty, encoding: .utf8)) ?? ""
        let flags = Set(stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        #expect(flags.isSuperset(of: ["icanon", "echo", "isig", "opost", "icrnl"]), "\(stty)")
        await tmux.kill()
        await fleet.stop(agents)
    }

    @Test func ctrlBracketDetachesAndJoinResumes() async throws {
        try requireTmux()
        let fleet = try await CLIFleet.start()
        let agents = try await fleet.agents(1)
        let tmux = Tmux()
        let first = try Tmux.script(dvic: ["shell", "sim-0"], environment: fleet.environment, directory: fleet.home)
        try await tmux.start(script: first.script)
        #expect(await tmux.waitForScreen("sim$"), "\(tmux.lastScreen)")
        try await tmux.keys("ls")
        #expect(await tmux.waitForScreen("sim$ ls"), "\(tmux.lastScreen)")
        try await tmux.keys("C-]", literal: false)
        #expect(await Tmux.waitForStatus(first.status) == 0, "\(tmux.lastScreen)")
        #expect(await tmux.waitForScreen("detached from session"), "\(tmux.lastScreen)")
        let screen = await tmux.screen().replacingOccurrences(of: "\n", with: "")
        let session = try #require(screen.range(of: #"--join (p-[A-Za-z0-9-]+)"#, options: .regularExpression).map { String(screen[$0].dropFirst(7)) })
        await tmux.kill()

        // The session stayed open on the node: join it, see its scrollback, end it.
        let tmux2 = Tmux()
        let second = try Tmux.script(dvic: ["shell", "sim-0", "--join", session], environment: fleet.environment, directory: fleet.home)
        try await tmux2.start(script: second.script)
        #expect(await tmux2.waitForScreen("sim$ ls"), "\(tmux2.lastScreen)")
        try await tmux2.keys("exit 4")
        try await tmux2.keys("Enter", literal: false)
        #expect(await Tmux.waitForStatus(second.status) == 4, "\(tmux2.lastScreen)")

        // Joining a session that is gone is "not found".
        let gone = try await fleet.dvic("shell", "sim-0", "--join", session)
        #expect(gone.status == 66, "\(gone)")
        #expect(try await fleet.dvic("shell", "nobody").status == 66)
        await tmux2.kill()
        await fleet.stop(agents)
    }

    @Test func loginAsksForWhatIsMissingWithoutEchoingThePassword() async throws {
        try requireTmux()
        let fleet = try await CLIFleet.start()
        let tmux = Tmux()
        let run = try Tmux.script(dvic: ["login", "--server", fleet.harness.baseURL], environment: fleet.baseEnvironment, directory: fleet.home)
        try await tmux.start(script: run.script)
        #expect(await tmux.waitForScreen("User [admin]:"), "\(tmux.lastScreen)")
        try await tmux.keys("Enter", literal: false)
        #expect(await tmux.waitForScreen("Password for admin on \(fleet.harness.baseURL):"), "\(tmux.lastScreen)")
        try await tmux.keys("admin-password")
        try await tmux.keys("Enter", literal: false)
        #expect(await Tmux.waitForStatus(run.status) == 0, "\(tmux.lastScreen)")
        #expect(await tmux.waitForScreen("Logged in to"), "\(tmux.lastScreen)")
        #expect(!tmux.lastScreen.contains("admin-password"))
        let stty = (try? String(contentsOfFile: run.stty, encoding: .utf8)) ?? ""
        #expect(Set(stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init)).contains("echo"), "\(stty)")
        let nodes = try await fleet.dvic(["nodes"], environment: fleet.baseEnvironment)
        #expect(nodes.status == 0, "\(nodes)")
        await tmux.kill()
        await fleet.stop()
    }

    @Test func execShowsProgressOnATerminalAndCtrlCCancels() async throws {
        try requireTmux()
        let fleet = try await CLIFleet.start()
        let agents = try await fleet.agents(3)
        let tmux = Tmux()
        let run = try Tmux.script(dvic: ["exec", "--all", "--timeout", "60", "--", "sleep", "100"], environment: fleet.environment, directory: fleet.home)
        try await tmux.start(script: run.script, cols: 100, rows: 20)
        #expect(await tmux.waitForScreen("0/3 done · 0 ok · 0 failed"), "\(tmux.lastScreen)")
        try await tmux.keys("C-c", literal: false)
        #expect(await Tmux.waitForStatus(run.status) == 1, "\(tmux.lastScreen)")
        #expect(await tmux.waitForScreen("3 nodes: 0 ok, 3 failed"), "\(tmux.lastScreen)")
        #expect(tmux.lastScreen.contains("cancelled"))
        await tmux.kill()
        await fleet.stop(agents)
    }

    @Test func topRedrawsInPlaceUntilQ() async throws {
        try requireTmux()
        let fleet = try await CLIFleet.start()
        let agents = try await fleet.agents(2)
        SimulatedTelemetry.send(agents[0], cpu: [3])
        SimulatedTelemetry.send(agents[1], cpu: [30])
        let tmux = Tmux()
        let run = try Tmux.script(dvic: ["top"], environment: fleet.environment, directory: fleet.home)
        try await tmux.start(script: run.script, cols: 120, rows: 20)
        #expect(await tmux.waitForScreen("dvic top ·"), "\(tmux.lastScreen)")
        #expect(await tmux.waitForScreen("30%"), "\(tmux.lastScreen)")
        func order() async -> [String] {
            await tmux.screen().split(separator: "\n").compactMap { line in line.hasPrefix("sim-") ? String(line.prefix(5)) : nil }
        }
        #expect(await order() == ["sim-1", "sim-0"], "\(tmux.lastScreen)")
        // Live: sim-0 gets busier and moves to the top without a restart.
        SimulatedTelemetry.send(agents[0], cpu: [95])
        #expect(await tmux.waitForScreen("95%"), "\(tmux.lastScreen)")
        #expect(await order() == ["sim-0", "sim-1"], "\(tmux.lastScreen)")
        try await tmux.keys("q")
        #expect(await Tmux.waitForStatus(run.status) == 0, "\(tmux.lastScreen)")
        let stty = (try? String(contentsOfFile: run.stty, encoding: .utf8)) ?? ""
        let flags = Set(stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        #expect(flags.isSuperset(of: ["icanon", "echo", "isig"]), "\(stty)")
        await tmux.kill()
        await fleet.stop(agents)
    }
}
