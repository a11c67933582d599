internal import Foundation

/// The local terminal: raw mode that is restored on every way out (normal return,
/// thrown error, `exit`, SIGTERM/SIGHUP/SIGINT/SIGQUIT), the window size, signals as
/// async sequences, and prompts with and without echo.
public enum Terminal {
    public struct Size: Hashable, Sendable {
        public var rows: UInt32
        public var cols: UInt32

        public init(rows: UInt32, cols: UInt32) {
            self.rows = rows
            self.cols = cols
        }
    }

    /// The window size of the terminal on `fd` (stdin, then stdout, then stderr by
    /// default); nil when none of them is a terminal.
    public static func size(fds: [Int32] = [0, 1, 2]) -> Size? {
        for fd in fds {
            var window = winsize()
            if ioctl(fd, UInt(TIOCGWINSZ), &window) == 0, window.ws_row > 0, window.ws_col > 0 {
                return Size(rows: UInt32(window.ws_row), cols: UInt32(window.ws_col))
            }
        }
        return nil
    }

    public enum Mode: Sendable {
        /// Everything goes to the program: no echo, no line editing, no signals from
        /// keys, no output processing (for `dvic shell`).
        case raw
        /// Keys one at a time without echo, Ctrl-C still a signal, output as usual
        /// (for `dvic top`).
        case keys
    }

    /// Switches `fd` to `mode`; `restore()` (or any exit) puts it back. `restoreOutput`
    /// is written to stdout on restore, e.g. to leave the alternate screen.
    public static func enter(_ mode: Mode, fd: Int32 = 0, restoreOutput: String = "") throws(CLIError) {
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { throw .usage("standard input is not a terminal") }
        var changed = original
        switch mode {
        case .raw:
            cfmakeraw(&changed)
        case .keys:
            changed.c_lflag &= ~tcflag_t(ICANON | ECHO)
            withUnsafeMutableBytes(of: &changed.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
        }
        TerminalRestorer.save(fd: fd, original: original, output: restoreOutput)
        guard tcsetattr(fd, TCSANOW, &changed) == 0 else {
            TerminalRestorer.restore()
            throw .usage("cannot switch the terminal to raw mode: \(String(cString: strerror(errno)))")
        }
    }

    /// Puts the terminal back as it was (safe to call more than once).
    public static func restore() {
        TerminalRestorer.restore()
    }

    /// A signal as an async sequence (the signal's default action is turned off).
    public static func signals(_ number: Int32) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        signal(number, SIG_IGN)
        let source = SignalSource(DispatchSource.makeSignalSource(signal: number, queue: .global()))
        source.source.setEventHandler { continuation.yield() }
        continuation.onTermination = { _ in source.source.cancel() }
        source.source.resume()
        return stream
    }

    /// Bytes typed on `fd`, read by a thread of their own (reads block); ends at EOF.
    public static func input(fd: Int32 = 0) -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .unbounded)
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                if count > 0 {
                    if case .terminated = continuation.yield(Array(buffer[0..<count])) { return }
                } else if count < 0 && (errno == EINTR || errno == EAGAIN) {
                    continue
                } else {
                    continuation.finish()
                    return
                }
            }
        }
        thread.start()
        return stream
    }

    /// Asks on the terminal and reads one line; nil at EOF.
    public static func prompt(_ text: String) -> String? {
        Console.err(text, newline: false)
        return readLine(strippingNewline: true)
    }

    /// Asks for a password without echo. Reads from the terminal even when stdin is
    /// redirected; without any terminal it is a usage error (use --password-stdin).
    public static func password(_ text: String) throws(CLIError) -> String {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { throw .usage("no terminal to ask for the password on; pipe it with --password-stdin") }
        defer { close(fd) }
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { throw .usage("no terminal to ask for the password on; pipe it with --password-stdin") }
        Console.write(fd: fd, text)
        var quiet = original
        quiet.c_lflag &= ~tcflag_t(ECHO)
        quiet.c_lflag |= tcflag_t(ICANON)
        TerminalRestorer.save(fd: fd, original: original, output: "")
        _ = tcsetattr(fd, TCSAFLUSH, &quiet)
        defer {
            TerminalRestorer.restore()
            Console.write(fd: fd, "\n")
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 {
            if byte == 0x0A || byte == 0x0D { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}

/// A dispatch signal source, only touched through its own thread-safe methods.
private final class SignalSource: @unchecked Sendable {
    let source: any DispatchSourceSignal
    init(_ source: any DispatchSourceSignal) { self.source = source }
}
