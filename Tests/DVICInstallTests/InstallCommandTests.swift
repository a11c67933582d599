import DVICInstall
import DVICTesting
import Foundation
import Testing

@Suite struct InstallCommandTests {
    /// Runs `sh -c TEXT` for real and returns its stdout.
    static func shell(_ text: String) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-quote-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out").path
        let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let null = open("/dev/null", O_RDWR)
        let pid = try Spawn.start("/bin/sh", ["-c", text], environment: ProcessInfo.processInfo.environment, stdin: null, stdout: fd, stderr: null)
        close(fd)
        close(null)
        _ = await Spawn.wait(pid, timeout: .seconds(10))
        return try String(contentsOfFile: out, encoding: .utf8)
    }

    @Test(arguments: ["plain", "it's", "a b\tc", "$(rm -rf /)", "`id`", "\"quoted\"", "back\\slash", "ünïcødé", "'", "''"])
    func quotingSurvivesAShell(value: String) async throws {
        let output = try await Self.shell("printf %s " + InstallCommand.quote(value))
        #expect(output == value)
    }

    @Test func sudoForUsersButNotForRoot() {
        let user = InstallCommand.remote(scriptURL: "http://s:8080/install.sh?token=dve_x", user: "pi", arguments: ["--prefix", "/opt/d v"])
        #expect(user.contains("sudo -S -p"))
        #expect(user.contains("/opt/d v"))
        let root = InstallCommand.remote(scriptURL: "http://s:8080/install.sh?token=dve_x", user: "root")
        #expect(!root.contains("sudo"))
    }

    @Test func aFailedFetchSaysDownloadFailed() async throws {
        // Nothing listens on port 9 of localhost: the wrapper must report download_failed, and
        // must not try to run a script it does not have.
        let command = InstallCommand.remote(scriptURL: "http://127.0.0.1:9/install.sh?token=x", user: "root")
        let output = try await Self.shell(command + " 2>&1")
        #expect(output.contains("DVIC-FAIL download_failed"))
    }
}
