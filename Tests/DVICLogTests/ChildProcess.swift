import DVICTesting
import Foundation
import Glibc

/// A child process whose output (stdout and stderr together) is collected in a file, so that a
/// chatty child can never block on a full pipe. Started with `Spawn`, not Foundation's `Process`:
/// its children inherit only stdin, stdout and stderr, not the sockets of the servers other tests
/// run in this process, and waiting for it holds no thread.
enum ChildProcess {
    struct Result {
        var status: Int32
        var output: String
    }

    static func run(
        _ executable: String, arguments: [String], directory: URL, timeout: Duration
    ) async throws -> Result {
        let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: logURL) }
        let log = open(logURL.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        guard log >= 0 else { throw HarnessError("cannot open \(logURL.path)") }
        // Spawn has no working directory: a shell changes to it, then becomes the program.
        let pid: pid_t
        do {
            pid = try Spawn.start(
                "/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", directory.path, executable] + arguments,
                environment: ProcessInfo.processInfo.environment, stdin: null, stdout: log, stderr: log)
        } catch {
            close(log)
            throw error
        }
        close(log)

        let status: Int32
        var note = ""
        if let exited = await Spawn.wait(pid, timeout: timeout) {
            status = exited
        } else {
            kill(pid, SIGKILL)
            _ = await Spawn.wait(pid, timeout: .seconds(10))
            status = -1
            note = "\n(killed after \(timeout))"
        }
        let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return Result(status: status, output: output + note)
    }
}
