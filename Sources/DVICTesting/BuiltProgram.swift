#if canImport(Glibc)
import Glibc
#endif
public import Foundation

/// A process of one of this package's built programs (`dvic-server`, `dvic-agent`, `dvic`,
/// from `.build/debug`, as CI builds them once) or any other executable, started through
/// `Spawn` (clean signal mask) and reaped by polling, for the end-to-end tests.
public struct BuiltProgram: Sendable {
    /// The checkout, found from this file's place in it.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let binaries = root.appendingPathComponent(".build/debug")

    public let pid: pid_t
    /// Where stdout and stderr go (nil: /dev/null).
    public let output: String?

    /// - Parameters:
    ///   - executable: a program name of `.build/debug`, or an absolute path.
    ///   - output: stdout and stderr are appended to this file (else /dev/null).
    ///   - stdinFile: stdin comes from this file (else /dev/null).
    ///   - environment: added to this process's environment.
    public init(_ executable: String, _ arguments: [String], output: String? = nil, stdinFile: String? = nil, environment: [String: String] = [:]) throws {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let input = open(stdinFile ?? "/dev/null", O_RDONLY | O_CLOEXEC)
        let out = output.map { open($0, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) } ?? open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer {
            close(input)
            close(out)
        }
        let path = executable.hasPrefix("/") ? executable : Self.binaries.appendingPathComponent(executable).path
        pid = try Spawn.start(path, arguments, environment: env, stdin: input, stdout: out, stderr: out)
        self.output = output
    }

    /// SIGTERM, then SIGKILL if it is still there after ten seconds.
    public func stop() async {
        Glibc.kill(pid, SIGTERM)
        if await Spawn.wait(pid, timeout: .seconds(10)) == nil {
            Glibc.kill(pid, SIGKILL)
            _ = await Spawn.wait(pid, timeout: .seconds(5))
        }
    }

    /// SIGKILL, as a crash would.
    public func kill() async {
        Glibc.kill(pid, SIGKILL)
        _ = await Spawn.wait(pid, timeout: .seconds(10))
    }

    /// The exit status, or nil when it did not end in time.
    public func wait(timeout: Duration) async -> Int32? { await Spawn.wait(pid, timeout: timeout) }

    /// What it wrote so far.
    public var text: String { output.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" }
}
