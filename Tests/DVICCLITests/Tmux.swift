import DVICTesting
import Foundation
import Glibc
import Synchronization

/// A private tmux server (its own socket) to drive `dvic` through a real terminal:
/// send-keys to type, capture-pane to read the screen.
final class Tmux: Sendable {
    /// The screen as last captured, for messages.
    private let captured = Mutex("")
    var lastScreen: String { captured.withLock { $0 } }

    let socket = "dvic-test-\(UUID().uuidString.prefix(8))"
    let session = "cli"

    static var isInstalled: Bool {
        ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @discardableResult
    func run(_ arguments: [String]) async throws -> String {
        // Output through a file, not a pipe: the tmux server that `new-session` starts
        // could hold a pipe open for as long as it lives.
        let outputPath = NSTemporaryDirectory() + "tmux-out-\(UUID().uuidString)"
        let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HarnessError("cannot create \(outputPath)") }
        defer { unlink(outputPath) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "TERM": "xterm-256color", "HOME": NSTemporaryDirectory()]
        let pid: pid_t
        do {
            pid = try Spawn.start(Self.executable, ["-L", socket, "-f", "/dev/null"] + arguments, environment: environment, stdin: null, stdout: fd, stderr: fd)
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        guard let status = await Spawn.wait(pid, timeout: .seconds(20)) else {
            Glibc.kill(pid, SIGKILL)
            throw HarnessError("tmux \(arguments.joined(separator: " ")) did not finish")
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else { throw HarnessError("tmux \(arguments.joined(separator: " ")): \(text)") }
        return text
    }

    static var executable: String {
        ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/tmux"
    }

    /// Starts `script` (a shell script file) in a detached window of `cols` × `rows`.
    func start(script: String, cols: Int = 100, rows: Int = 30) async throws {
        try await run(["new-session", "-d", "-s", session, "-x", String(cols), "-y", String(rows), "sh \(script)"])
        try await run(["set-option", "-t", session, "status", "off"])
    }

    func keys(_ text: String, literal: Bool = true) async throws {
        try await run(["send-keys", "-t", session] + (literal ? ["-l", text] : [text]))
    }

    func resize(cols: Int, rows: Int) async throws {
        try await run(["resize-window", "-t", session, "-x", String(cols), "-y", String(rows)])
    }

    func screen() async -> String {
        let text = (try? await run(["capture-pane", "-p", "-t", session])) ?? ""
        captured.withLock { $0 = text }
        return text
    }

    func waitForScreen(_ text: String, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await screen().contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Ends the tmux server and removes its socket.
    func kill() async {
        _ = try? await run(["kill-server"])
        let directory = ProcessInfo.processInfo.environment["TMUX_TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        unlink("\(directory)/tmux-\(getuid())/\(socket)")
    }

    /// A script that runs `dvic` with `environment` and then records its exit code and
    /// the terminal's settings (to check raw mode was undone). It lingers 15 s so the
    /// screen can still be read, then ends, and the tmux server with it.
    static func script(dvic arguments: [String], environment: [String: String], directory: String) throws -> (script: String, status: String, stty: String) {
        let status = directory + "/status-\(UUID().uuidString.prefix(6))"
        let stty = directory + "/stty-\(UUID().uuidString.prefix(6))"
        let exports = environment.map { "export \($0.key)='\($0.value)'" }.joined(separator: "\n")
        let command = ([try DVICBinary.require()] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let text = """
            \(exports)
            export TERM=xterm-256color
            trap 'true' INT
            \(command)
            code=$?
            stty -a > \(stty) 2>&1
            echo $code > \(status).tmp && mv \(status).tmp \(status)
            sleep 15
            """
        let path = directory + "/run-\(UUID().uuidString.prefix(6)).sh"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, status, stty)
    }

    /// The recorded exit code, once there.
    static func waitForStatus(_ path: String, timeout: Duration = .seconds(20)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let code = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return code
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}
