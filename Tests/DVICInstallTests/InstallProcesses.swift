import DVICTesting
import Foundation
import Glibc

/// Helpers around the installs' processes (started as `BuiltProgram`s).
enum InstallProcess {
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
