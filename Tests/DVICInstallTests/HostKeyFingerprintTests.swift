import DVICInstall
import DVICTesting
import Foundation
import Testing

@Suite struct HostKeyFingerprintTests {
    /// The fingerprint must be the one `ssh-keygen -l` prints, so that staff can compare them.
    @Test func matchesSSHKeygen() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen") else {
            Issue.record("ssh-keygen is missing: tools/sshd installs openssh-server, which brings it")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dvic-fp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("k").path
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        let pid = try Spawn.start("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key], environment: [:], stdin: null, stdout: null, stderr: null)
        _ = await Spawn.wait(pid, timeout: .seconds(10))
        let out = directory.appendingPathComponent("fp").path
        let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let listing = try Spawn.start("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", key + ".pub"], environment: [:], stdin: null, stdout: fd, stderr: null)
        close(fd)
        _ = await Spawn.wait(listing, timeout: .seconds(10))
        let expected = try String(contentsOfFile: out, encoding: .utf8).split(separator: " ")[1]
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(HostKeyFingerprint.sha256(openSSHKey: publicKey) == String(expected))
        #expect(HostKeyFingerprint.canonical(publicKey).split(separator: " ").count == 2)
        #expect(HostKeyFingerprint.sha256(openSSHKey: "ssh-ed25519 !!!not-base64") == nil)
        #expect(HostKeyFingerprint.sha256(openSSHKey: "") == nil)
    }
}
