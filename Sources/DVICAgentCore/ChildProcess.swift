#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CPty

/// A child process started with posix_spawn as the leader of its own process group, with its
/// stdout and stderr on pipes: the I/O part of running a command.
struct ChildProcess: Sendable {
    /// How a process ended.
    enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signaled(Int32)
    }

    let pid: pid_t
    /// Read ends of stdout and stderr (close-on-exec); the caller owns them.
    let stdout: CInt
    let stderr: CInt

    /// Starts `argv` (searched in PATH when `argv[0]` has no slash) with `environment` (nil keeps
    /// the agent's).
    static func spawn(_ argv: [String], environment: [String]? = nil) throws(AgentError) -> ChildProcess {
        guard let program = argv.first, !program.isEmpty else {
            throw AgentError(code: .spawnFailed, message: "no program to run")
        }
        var outPipe: [CInt] = [-1, -1]
        var errPipe: [CInt] = [-1, -1]
        guard dvic_pipe_cloexec(&outPipe) == 0 else { throw .io("pipe2 failed", errno: errno) }
        guard dvic_pipe_cloexec(&errPipe) == 0 else {
            let saved = errno
            close(outPipe[0])
            close(outPipe[1])
            throw .io("pipe2 failed", errno: saved)
        }
        var pid: pid_t = 0
        let result = withCStrings(argv) { cArgv in
            withOptionalCStrings(environment) { cEnv in
                dvic_spawn(program, cArgv, cEnv ?? dvic_environ(), program.contains("/") ? 0 : 1, outPipe[1], errPipe[1], &pid)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard result == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw AgentError(code: .spawnFailed, message: "cannot start \(program): \(String(cString: strerror(result)))", errno: result)
        }
        return ChildProcess(pid: pid, stdout: outPipe[0], stderr: errPipe[0])
    }

    /// `waitpid(pid, WNOHANG)`: the termination if the process has ended (it is then reaped).
    static func reap(_ pid: pid_t) -> Termination? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { return decode(status) }
        if result < 0 && errno == ECHILD { return .exited(-1) }  // someone else reaped it
        return nil
    }

    /// Waits for `pid` to end, checking at growing intervals (5 ms up to 100 ms): the agent has
    /// no SIGCHLD handler (it may run inside the server), and a poll only runs while a child does.
    static func wait(for pid: pid_t) async -> Termination {
        var delay: UInt64 = 5_000_000
        while true {
            if let termination = reap(pid) { return termination }
            // Not cancellable: the child must be reaped whatever happens, or it stays a zombie.
            // Once the task is cancelled `Task.sleep` returns at once, so sleep the thread
            // briefly instead of spinning (the child has been sent SIGKILL by then).
            do {
                try await Task.sleep(nanoseconds: delay)
            } catch {
                usleep(10_000)
            }
            delay = min(delay * 2, 100_000_000)
        }
    }

    /// WIFEXITED / WEXITSTATUS / WTERMSIG, which are C macros Swift cannot import.
    static func decode(_ status: Int32) -> Termination {
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    /// Sends `signal` to the whole process group led by `pid`.
    @discardableResult
    static func signalGroup(_ pid: pid_t, _ signal: Int32) -> Bool {
        kill(-pid, signal) == 0
    }

    /// Whether any process of the group led by `pid` is still alive (zombies included).
    static func groupExists(_ pid: pid_t) -> Bool {
        kill(-pid, 0) == 0
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

func withOptionalCStrings<R>(_ strings: [String]?, _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R) -> R {
    guard let strings else { return body(nil) }
    return withCStrings(strings) { body($0) }
}
