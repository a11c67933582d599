import DVICTesting
import Foundation
import Testing

/// `dvic login`, the saved configuration, flags and environment, auth errors.
@Suite(.serialized) struct LoginTests {
    @Test func loginSavesAPrivateConfigThatEveryCommandUses() async throws {
        let fleet = try await CLIFleet.start()
        let agents = try await fleet.agents(1)
        let plain = fleet.baseEnvironment

        let login = try await fleet.dvic(["login", "--server", fleet.harness.baseURL, "--user", "admin", "--password-stdin"], environment: plain, stdin: "admin-password\n")
        #expect(login.status == 0, "\(login)")
        #expect(login.stderr.contains("Logged in to \(fleet.harness.baseURL) as admin"))
        let path = fleet.home + "/.config/dvic/config.json"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        #expect(saved?["server"] as? String == fleet.harness.baseURL)
        let token = try #require(saved?["token"] as? String)

        // No flags, no environment: the saved login.
        let nodes = try await fleet.dvic(["nodes"], environment: plain)
        #expect(nodes.status == 0, "\(nodes)")
        #expect(nodes.stdout.contains("sim-0"))

        // Flags win over the environment, which wins over the file.
        let badFlag = try await fleet.dvic(["nodes", "--token", "not-a-token"], environment: plain)
        #expect(badFlag.status == 77, "\(badFlag)")
        #expect(badFlag.stderr.hasPrefix("dvic: not authorized"))
        #expect(badFlag.stderr.split(separator: "\n").count == 1)
        var badEnvironment = plain
        badEnvironment["DVIC_TOKEN"] = "not-a-token"
        #expect(try await fleet.dvic(["nodes"], environment: badEnvironment).status == 77)
        #expect(try await fleet.dvic(["nodes", "--token", token], environment: badEnvironment).status == 0)

        // A wrong password is an auth error and saves nothing.
        let refused = try await fleet.dvic(["login", "--server", fleet.harness.baseURL, "--user", "admin", "--password-stdin"], environment: plain, stdin: "wrong\n")
        #expect(refused.status == 77, "\(refused)")
        #expect(refused.stderr.contains("login refused"))

        let logout = try await fleet.dvic(["logout"], environment: plain)
        #expect(logout.status == 0, "\(logout)")
        let afterLogout = try await fleet.dvic(["nodes"], environment: plain)
        #expect(afterLogout.status == 77, "\(afterLogout)")
        #expect(afterLogout.stderr.contains("not logged in"))
        await fleet.stop(agents)
    }

    @Test func helpCompletionAndUsageErrors() async throws {
        let fleet = try await CLIFleet.start()
        let help = try await fleet.dvic(["--help"], environment: fleet.baseEnvironment)
        #expect(help.status == 0)
        for text in ["Exit codes:", "64", "77", "66", "69", "DVIC_SERVER", "--generate-completion-script"] {
            #expect(help.stdout.contains(text), "help lacks \(text)")
        }
        for shell in ["bash", "zsh", "fish"] {
            let script = try await fleet.dvic(["--generate-completion-script", shell], environment: fleet.baseEnvironment)
            #expect(script.status == 0)
            #expect(script.stdout.contains("dvic") && script.stdout.contains("exec"))
        }
        let noServer = try await fleet.dvic(["nodes"], environment: fleet.baseEnvironment)
        #expect(noServer.status == 64, "\(noServer)")
        #expect(noServer.stderr.contains("no server"))
        let badFlag = try await fleet.dvic(["nodes", "--bogus"])
        #expect(badFlag.status == 64)
        let badStatus = try await fleet.dvic(["nodes", "--status", "sleeping"])
        #expect(badStatus.status == 64)
        await fleet.stop()
    }

    @Test func aServerThatIsDownIsUnreachable() async throws {
        let fleet = try await CLIFleet.start()
        let url = fleet.harness.baseURL
        await fleet.harness.stop()
        var environment = fleet.baseEnvironment
        environment["DVIC_SERVER"] = url
        environment["DVIC_TOKEN"] = "whatever"
        for arguments in [["nodes"], ["node", "show", "x"], ["logs", "-f"], ["exec", "--all", "--", "true"], ["shell", "x"], ["top", "--once"]] {
            let result = try await fleet.dvic(arguments, environment: environment)
            #expect(result.status == 69, "\(arguments): \(result)")
            #expect(result.stderr.contains("cannot reach \(url)"), "\(arguments): \(result)")
        }
        try? FileManager.default.removeItem(atPath: fleet.home)
        try? FileManager.default.removeItem(atPath: fleet.harness.dataDirectory)
    }
}
