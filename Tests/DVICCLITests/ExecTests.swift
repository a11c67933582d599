import DVICProtocol
import DVICTesting
import Foundation
import Testing

/// `dvic exec` over simulated nodes: progress, per-node output, exit codes.
@Suite(.serialized) struct ExecTests {
    /// Answers every command sent to `agent` with stderr `disk full` and exit `code`,
    /// until cancelled: a node on which the command fails.
    func failing(_ agent: SimulatedAgent, code: Int64) -> Task<Void, Never> {
        Task {
            var answered = Set<String>()
            while !Task.isCancelled {
                for case .commandRequest(let request) in agent.received where !answered.contains(request.commandID) {
                    answered.insert(request.commandID)
                    agent.send([
                        .commandOutput(CommandOutput(commandID: request.commandID, stream: .stderr, data: Array("disk full\n".utf8))),
                        .commandExit(CommandExit(commandID: request.commandID, reason: .exited, exitCode: code, signal: 0, durationMs: 7, message: "")),
                    ])
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func twentyNodesWithOneFailing() async throws {
        let fleet = try await CLIFleet.start()
        let good = try await fleet.agents(19, tags: ["hall"], prefix: "sim")
        let bad = try await fleet.agents(1, tags: ["hall"], prefix: "odd", autoRespond: false)
        let responder = failing(bad[0], code: 3)
        defer { responder.cancel() }

        let result = try await fleet.dvic("exec", "--tag", "hall", "--timeout", "20", "--", "uname", "-a")
        #expect(result.status == 1, "\(result)")
        let output = result.lines.filter { $0.contains(" | ") || $0.contains(" ! ") }
        #expect(output.count == 20, "\(result)")
        #expect(output.filter { $0.hasSuffix("| Linux simulated 6.1.0 #1 SMP x86_64 GNU/Linux") }.count == 19)
        #expect(output.contains("odd-0  ! disk full"), "\(result)")
        #expect(result.lines.contains { $0.hasPrefix("odd-0") && $0.contains(bad[0].nodeID) && $0.contains("exit 3") })
        #expect(result.lines.filter { $0.contains(" exit 0 ") }.count == 19)
        #expect(result.lines.last == "20 nodes: 19 ok, 1 failed (odd-0: exit 3)")
        // Not a terminal: no progress line on stderr.
        #expect(!result.stderr.contains("done ·"))

        // Every node fine: exit 0.
        let fine = try await fleet.dvic("exec", "--node", "sim-3", "--node", "sim-4", "--", "echo", "hello")
        #expect(fine.status == 0, "\(fine)")
        #expect(fine.lines.contains("sim-3 | hello") && fine.lines.contains("sim-4 | hello"))
        #expect(fine.lines.last == "2 nodes: 2 ok, 0 failed")

        let json = try await fleet.dvic("exec", "--all", "--json", "--", "exit", "2")
        #expect(json.status == 1)
        let state = try #require(json.object as? [String: Any])
        #expect(state["state"] as? String == "done")
        #expect(state["total"] as? Int == 20)
        let results = try #require(state["results"] as? [[String: Any]])
        #expect(results.filter { $0["exitCode"] as? Int == 2 }.count == 19)
        #expect(results.filter { $0["exitCode"] as? Int == 3 && $0["stderr"] as? String == "disk full\n" }.count == 1)

        let zero = try await fleet.dvic("exec", "--tag", "hall", "--json", "--", "true")
        #expect(zero.status == 1, "the odd node fails every command")
        let allGood = try await fleet.dvic("exec", "--node", "sim-0", "--", "true")
        #expect(allGood.status == 0, "\(allGood)")

        let unknownNode = try await fleet.dvic("exec", "--node", "nobody", "--", "true")
        #expect(unknownNode.status == 66, "\(unknownNode)")
        let noMatch = try await fleet.dvic("exec", "--tag", "no-such-tag", "--", "true")
        #expect(noMatch.status == 66, "\(noMatch)")
        let twoKinds = try await fleet.dvic("exec", "--all", "--tag", "hall", "--", "true")
        #expect(twoKinds.status == 64)
        let noCommand = try await fleet.dvic("exec", "--all")
        #expect(noCommand.status == 64)
        await fleet.stop(good + bad)
    }

    @Test func aNodeThatNeverAnswersTimesOut() async throws {
        let fleet = try await CLIFleet.start()
        let agents = try await fleet.agents(2)
        // `sleep` is never answered by a simulated node; the server gives up after
        // the timeout plus its grace and reports it.
        let result = try await fleet.dvic("exec", "--node", "sim-0", "--timeout", "0.5", "--", "sleep", "100")
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains("timed out"), "\(result)")
        await fleet.stop(agents)
    }
}
