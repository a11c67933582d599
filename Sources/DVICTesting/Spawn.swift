public import Glibc
import CPty
import Foundation

/// Starts child processes with a clean signal mask and default signal actions. The
/// test process runs on threads that block signals, and a child made by `Process`
/// inherits that mask: `dvic` would not die on SIGTERM, nor a tmux server on
/// `kill-server`. Waiting polls `waitpid` with WNOHANG, because a blocking wait
/// (Foundation's `waitUntilExit`) holds a thread of the 2-thread cooperative pool and
/// can stall every in-process server of the test run.
public enum Spawn {
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String], stdin: Int32, stdout: Int32, stderr: Int32) throws -> Glibc.pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        // NIO's sockets are not close-on-exec, and the test process holds hundreds of
        // them: a child that inherits a connection keeps it open after the test closes
        // it, so the peer sees no end until that child exits (a server then took over
        // 10 s to notice a disconnected agent while an end-to-end test's child ran).
        let closing = dvic_spawn_actions_closefrom(&actions, 3)
        guard closing == 0 else { throw HarnessError("cannot close inherited descriptors: \(String(cString: strerror(closing)))") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in Int32(1)..<32 where number != SIGKILL && number != SIGSTOP { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        // A program a test just wrote must be written with `ExecutableFile` (close-on-exec),
        // or a child started meanwhile by another thread keeps it "busy" (ETXTBSY).
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw HarnessError("cannot start \(executable): \(String(cString: strerror(result)))") }
        return pid
    }

    /// The exit status (128 + signal when killed by one), polled so that no thread
    /// blocks; nil on timeout.
    public static func wait(_ pid: Glibc.pid_t, timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let signal = status & 0x7F
                return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
            }
            if result < 0 && errno != EINTR { return -1 }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// A pipe whose ends are closed in children (but for the dup2'd copy).
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw HarnessError("pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }
}
