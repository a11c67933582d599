internal import Foundation
internal import Synchronization

/// The saved terminal state, restorable from a signal handler: only `tcsetattr` and
/// `write`, both async-signal-safe, run there.
enum TerminalRestorer {
    private struct Saved {
        var fd: Int32
        var original: termios
        var output: [UInt8]
    }

    nonisolated(unsafe) private static var saved: Saved?
    nonisolated(unsafe) private static var installed = false
    private static let lock = Mutex<Void>(())

    static func save(fd: Int32, original: termios, output: String) {
        lock.withLock { _ in
            saved = Saved(fd: fd, original: original, output: Array(output.utf8))
            guard !installed else { return }
            installed = true
            atexit { TerminalRestorer.restoreNow() }
            for number in [SIGTERM, SIGHUP, SIGINT, SIGQUIT] {
                signal(number) { number in
                    TerminalRestorer.restoreNow()
                    signal(number, SIG_DFL)
                    raise(number)
                }
            }
        }
    }

    static func restore() {
        lock.withLock { _ in restoreNow() }
    }

    private static func restoreNow() {
        guard var state = saved else { return }
        saved = nil
        _ = tcsetattr(state.fd, TCSANOW, &state.original)
        if !state.output.isEmpty {
            state.output.withUnsafeBytes { _ = write(1, $0.baseAddress!, $0.count) }
        }
    }
}
