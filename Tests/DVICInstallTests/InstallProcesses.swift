import DVICTesting
import Foundation
import Glibc

/// Real processes for the install tests: the built `dvic-server`, `dvic-agent` and `dvic`,
/// started through `Spawn` (clean signal mask) with their output in files, and reaped by polling.
struct InstallProcess: Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binaries = root.appendingPathComponent(".build/debug")

    let pid: pid_t
    let output: String

    /// - Parameters:
    ///   - output: stdout and stderr go to this file.
    ///   - stdinFile: stdin comes from this file (else /dev/null).
    init(_ executable: String, _ arguments: [String], output: String, stdinFile: String? = nil, environment: [String: String] = [:]) throws {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let input = open(stdinFile ?? "/dev/null", O_RDONLY)
        let out = open(output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer {
            close(input)
            close(out)
        }
        let path = executable.hasPrefix("/") ? executable : Self.binaries.appendingPathComponent(executable).path
        pid = try Spawn.start(path, arguments, environment: env, stdin: input, stdout: out, stderr: out)
        self.output = output
    }

    func stop() async {
        kill(pid, SIGTERM)
        if await Spawn.wait(pid, timeout: .seconds(10)) == nil {
            kill(pid, SIGKILL)
            _ = await Spawn.wait(pid, timeout: .seconds(5))
        }
    }

    /// The exit status, or nil when it did not end in time.
    func wait(timeout: Duration) async -> Int32? { await Spawn.wait(pid, timeout: timeout) }

    var text: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

    static func freePort() -> Int { FreePort.loopback() }

    /// Kills the agent an install started in the background (its pid file under the prefix).
    static func stopInstalledAgent(prefix: String) async {
        guard let text = try? String(contentsOfFile: prefix + "/var/lib/dvic/agent.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return }
        kill(pid, SIGKILL)
        for _ in 0..<50 where kill(pid, 0) == 0 { try? await Task.sleep(for: .milliseconds(100)) }
    }

    /// Every regular file under `directory` whose bytes contain `needle`.
    static func files(under directory: String, containing needle: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        let bytes = Data(needle.utf8)
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            if data.range(of: bytes) != nil { found.append(path) }
        }
        return found
    }
}

func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(200))
    }
    return try await condition()
}
