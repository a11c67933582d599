public import DVICLogFormat
import Synchronization

/// A demo's log file: `let log = try DVICLog.open("camera-demo"); log.info("ready")`.
///
/// Writes `<dir>/dvic_log_<token>` (the directory from `DVIC_LOG_DIR`, else /tmp) with a JSON
/// header and one line per record, which the DVIC agent tails. Every record is one `write()` on an
/// `O_APPEND` descriptor under a lock, so lines from many threads never interleave. A file that
/// would grow past the cap (16 MiB, or `DVIC_LOG_MAX_BYTES`) is continued in a new one whose header
/// names the old token as `prev`. When a file cannot be created or written, the log says so once
/// on stderr and writes its records there instead: logging never stops or crashes the demo.
public final class DVICLog: Sendable {
    /// The library's version, written in headers as `swift/<version>`.
    public static let version = "1.0.0"
    /// 16 MiB: the default cap on one file's size.
    public static let defaultMaxBytes = DVICLogSettings.defaultMaxBytes

    /// The demo's name as the header gives it: the one passed to `open`, or the program's name
    /// when that was empty.
    public let name: String

    private let settings: DVICLogSettings
    private let standardError: Int32
    private let clock: @Sendable () -> Int64
    private let state: Mutex<State>

    private struct State {
        var destination: Destination
        var rotation: RotationPolicy
        /// The first file's header; rotated files copy it with their own `prev`.
        var header: LogFileHeader
        /// Reused for every record so that a log call does not allocate once warmed up.
        var line: [UInt8] = []
    }

    private enum Destination {
        case file(descriptor: Int32, path: String, token: String)
        case standardError
        case closed
    }

    /// Opens a new log file for this process.
    ///
    /// - Parameters:
    ///   - name: The demo's name as the dashboard shows it, for example `camera-demo`.
    ///   - directory: Where to create the file; by default `DVIC_LOG_DIR` when set and not empty, else /tmp.
    ///   - maxBytes: The cap on one file's size; by default `DVIC_LOG_MAX_BYTES`, else 16 MiB.
    /// - Throws: Only when `name` is empty and the program has no name of its own to use instead.
    ///   A file that cannot be created or written is no error: the records go to stderr.
    public static func open(
        _ name: String, directory: String? = nil, maxBytes: Int? = nil
    ) throws(DVICLogError) -> DVICLog {
        try open(
            name, directory: directory, maxBytes: maxBytes, environment: DVICLogSettings.processEnvironment(),
            standardError: 2, clock: { LogTimestamp.now() })
    }

    /// The seam for tests: the environment, the descriptor standing in for stderr, and the clock.
    static func open(
        _ name: String, directory: String?, maxBytes: Int?, environment: [String: String], standardError: Int32,
        clock: @escaping @Sendable () -> Int64
    ) throws(DVICLogError) -> DVICLog {
        // An empty name would make the header invalid; the program's name stands in (Spec/logfile.md §6.1).
        guard let name = name.isEmpty ? ProcessIdentity.programName() : name else {
            throw DVICLogError(code: .invalidName, message: "no demo name was given and the program has none")
        }
        let settings = DVICLogSettings(directory: directory, maxBytes: maxBytes, environment: environment)
        let identity = ProcessIdentity.current()
        let header = LogFileHeader(
            pid: identity.pid, exe: identity.exe, argv: identity.argv, user: identity.user, name: name,
            started: LogTimestamp.format(clock()), lib: "swift/\(version)")
        return DVICLog(name: name, settings: settings, header: header, standardError: standardError, clock: clock)
    }

    private init(
        name: String, settings: DVICLogSettings, header: LogFileHeader, standardError: Int32,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.name = name
        self.settings = settings
        self.standardError = standardError
        self.clock = clock
        var state = State(
            destination: .closed, rotation: RotationPolicy(maxBytes: settings.maxBytes), header: header)
        Self.startFile(&state, header: header, settings: settings, standardError: standardError)
        self.state = Mutex(state)
    }

    deinit {
        close()
    }

    /// The file being written, or nil once the log has fallen back to stderr or was closed.
    public var path: String? {
        state.withLock { state in
            if case .file(_, let path, _) = state.destination { path } else { nil }
        }
    }

    public func trace(_ message: String) { log(.trace, message) }
    public func debug(_ message: String) { log(.debug, message) }
    public func info(_ message: String) { log(.info, message) }
    public func warn(_ message: String) { log(.warn, message) }
    public func error(_ message: String) { log(.error, message) }
    /// Records a fatal message; ending the program is the caller's choice.
    public func fatal(_ message: String) { log(.fatal, message) }

    /// Appends one record. Newlines, carriage returns and backslashes in the message are escaped,
    /// so it stays one line.
    public func log(_ level: LogLevel, _ message: String) {
        state.withLock { state in
            // Stamped under the lock, so the file's records are in time order.
            state.line.removeAll(keepingCapacity: true)
            LogRecord(timestamp: clock(), level: level, message: message).appendLine(to: &state.line)
            write(&state)
            // One huge message must not pin its buffer for the rest of the demo's life.
            if state.line.capacity > 1 << 20 {
                state.line = []
            }
        }
    }

    /// Closes the file. Records logged afterwards go to stderr rather than nowhere.
    public func close() {
        state.withLock { state in
            if case .file(let descriptor, _, _) = state.destination {
                FileOutput.closeFile(descriptor)
            }
            state.destination = .closed
        }
    }

    // MARK: - Under the lock

    private func write(_ state: inout State) {
        guard case .file(var descriptor, var path, let token) = state.destination else {
            FileOutput.writeToStandardError(standardError, state.line)
            return
        }
        if state.rotation.shouldRotate(before: state.line.count) {
            // The new file exists, header and all, before the old one is closed, so a reader
            // following `prev` always finds where the stream goes on.
            var next = state.header
            next.prev = token
            let started = Self.startFile(&state, header: next, settings: settings, standardError: standardError)
            FileOutput.closeFile(descriptor)
            guard started, case .file(let newDescriptor, let newPath, _) = state.destination else {
                FileOutput.writeToStandardError(standardError, state.line)
                return
            }
            descriptor = newDescriptor
            path = newPath
        }
        if let reason = FileOutput.writeOnce(descriptor, state.line) {
            FileOutput.closeFile(descriptor)
            Self.fallBack(&state, failure: FileOutput.Failure(path: path, reason: reason), standardError: standardError)
            FileOutput.writeToStandardError(standardError, state.line)
            return
        }
        state.rotation.wrote(state.line.count)
    }

    /// Creates a file with `header` and makes it the destination; on failure falls back to stderr.
    @discardableResult
    private static func startFile(
        _ state: inout State, header: LogFileHeader, settings: DVICLogSettings, standardError: Int32
    ) -> Bool {
        let created = FileOutput.create(settings: settings, headerLine: Array((header.jsonLine() + "\n").utf8))
        switch created {
        case .success(let file):
            state.destination = .file(descriptor: file.descriptor, path: file.path, token: file.token)
            state.rotation.startedFile(headerBytes: file.headerBytes)
            return true
        case .failure(let failure):
            fallBack(&state, failure: failure, standardError: standardError)
            return false
        }
    }

    /// Switches to stderr for good, saying why once.
    private static func fallBack(_ state: inout State, failure: FileOutput.Failure, standardError: Int32) {
        state.destination = .standardError
        let notice = "dvic_log: cannot write \(failure.path): \(failure.reason); logging to stderr\n"
        FileOutput.writeToStandardError(standardError, Array(notice.utf8))
    }
}
