import DVICServer
import DVICTesting
import Foundation
import Testing

/// `tools/sign-agent`, `dvic builds upload`, `dvic builds` and `dvic update` end to end
/// against a real server (the simulated agent never answers offers, so its rollout fails).
@Suite(.serialized) struct UpdateCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func signAgent(_ arguments: [String]) async throws -> CLIResult {
        let child = try ChildProcess(
            executable: "/bin/sh", arguments: [Self.root.appendingPathComponent("tools/sign-agent").path] + arguments,
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
        guard let status = await child.wait(timeout: .seconds(30)) else { throw HarnessError("tools/sign-agent did not finish") }
        return CLIResult(status: status, stdout: child.stdout, stderr: child.stderr)
    }

    @Test func signUploadListAndAFailedRolloutExitsNonZero() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-sign-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keygen = try await signAgent(["keygen", directory + "/keys"])
        #expect(keygen.status == 0, "\(keygen)")
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/keys/release.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // The server takes the PEM public key as openssl wrote it.
        let publicPEM = try String(contentsOfFile: directory + "/keys/release.pub", encoding: .utf8)
        let fleet = try await CLIFleet.start { $0.releaseKeyText = publicPEM }
        let agents = try await fleet.agents(1)

        let build = directory + "/dvic-agent"
        var bytes = Data("#!/bin/sh\nexit 0\n".utf8) + Data("DVIC-AGENT-VERSION:0.3.0".utf8)
        bytes += Data(count: 64 - 24)
        try bytes.write(to: URL(fileURLWithPath: build))
        let unsigned = try await fleet.dvic("builds", "upload", build)
        #expect(unsigned.status == 64, "\(unsigned)")
        #expect(unsigned.stderr.contains("tools/sign-agent"))

        let signed = try await signAgent(["sign", directory + "/keys/release.key", build])
        #expect(signed.status == 0, "\(signed)")
        #expect(signed.stdout.contains("version:   0.3.0"))
        #expect(try await signAgent(["verify", directory + "/keys/release.pub", build]).status == 0)
        let upload = try await fleet.dvic("builds", "upload", build)
        #expect(upload.status == 0, "\(upload)")
        #expect(upload.stdout.contains("uploaded 0.3.0"))
        let listed = try await fleet.dvic("builds", "--json")
        #expect(((listed.object as? [String: Any])?["builds"] as? [[String: Any]])?.first?["version"] as? String == "0.3.0", "\(listed)")

        // Changed after signing: the signature no longer covers it.
        try (bytes + Data([0x0a])).write(to: URL(fileURLWithPath: build))
        let tampered = try await fleet.dvic("builds", "upload", build)
        #expect(tampered.status == 64, "\(tampered)")
        #expect(tampered.stderr.contains("signature"))

        let rollout = try await fleet.dvic("update", "--node", "sim-0", "--timeout", "1")
        #expect(rollout.status == 1, "\(rollout)")
        #expect(rollout.stdout.contains("sim-0: failed"))
        #expect(rollout.stdout.contains(": failed: batch 1 failed"))
        let both = try await fleet.dvic("update", "--all", "--tag", "x")
        #expect(both.status == 64)
        await fleet.stop(agents)
    }
}
