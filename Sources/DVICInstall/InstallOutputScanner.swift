/// Reads the install command's output on the target and turns it into progress and, at the end,
/// a verdict. No I/O: tests feed it bytes.
///
/// The install script (Spec/install.md) marks its steps with lines `DVIC-STEP <step> <message>`
/// and a failure it recognises with `DVIC-FAIL <failure> <message>`; everything else is kept as
/// a short tail of stderr for the error message, and sudo's own complaints are recognised,
/// because sudo fails before the script runs.
public struct InstallOutputScanner: Sendable {
    public enum Stream: Sendable { case stdout, stderr }

    private var partial: [Stream: [UInt8]] = [:]
    public private(set) var steps: [InstallProgressEvent] = []
    public private(set) var failure: InstallFailure?
    /// The last few lines of stderr that were not markers, for messages.
    public private(set) var stderrTail: [String] = []
    private var sudoComplaint: String?
    /// A line longer than this is cut: the output of a hostile or broken target must not grow
    /// the source node's memory.
    public static let maxLineBytes = 4096
    static let tailLines = 8

    public init() {}

    /// Feeds a chunk; returns the steps it completed, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>, from stream: Stream) -> [InstallProgressEvent] {
        var events: [InstallProgressEvent] = []
        var buffer = partial[stream] ?? []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if let event = line(String(decoding: buffer, as: UTF8.self), from: stream) { events.append(event) }
                buffer.removeAll(keepingCapacity: true)
            } else if buffer.count < Self.maxLineBytes {
                buffer.append(byte)
            }
        }
        partial[stream] = buffer
        return events
    }

    /// Flushes unterminated lines (the command ended).
    public mutating func finish() -> [InstallProgressEvent] {
        var events: [InstallProgressEvent] = []
        for stream in [Stream.stdout, .stderr] {
            if let rest = partial[stream], !rest.isEmpty, let event = line(String(decoding: rest, as: UTF8.self), from: stream) {
                events.append(event)
            }
            partial[stream] = []
        }
        return events
    }

    private mutating func line(_ raw: String, from stream: Stream) -> InstallProgressEvent? {
        let text = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
        if text.hasPrefix("DVIC-STEP ") {
            let (step, message) = Self.split(text.dropFirst("DVIC-STEP ".count))
            guard !step.isEmpty else { return nil }
            let event = InstallProgressEvent(step: step, message: message)
            steps.append(event)
            return event
        }
        if text.hasPrefix("DVIC-FAIL ") {
            let (name, message) = Self.split(text.dropFirst("DVIC-FAIL ".count))
            if failure == nil {
                failure = InstallFailure(InstallFailure.Code(name: name) ?? .installFailed, message.isEmpty ? name : message)
            }
            return nil
        }
        guard stream == .stderr, !text.isEmpty else { return nil }
        if sudoComplaint == nil, Self.isSudoComplaint(text) { sudoComplaint = text }
        stderrTail.append(text)
        if stderrTail.count > Self.tailLines { stderrTail.removeFirst() }
        return nil
    }

    static func split(_ text: Substring) -> (String, String) {
        let name = text.prefix { $0 != " " }
        let rest = text.dropFirst(name.count).drop { $0 == " " }
        return (String(name), String(rest))
    }

    static func isSudoComplaint(_ line: String) -> Bool {
        let lower = line.lowercased()
        guard lower.contains("sudo") else { return false }
        return lower.contains("not in the sudoers") || lower.contains("not allowed to") || lower.contains("a password is required")
            || lower.contains("incorrect password") || lower.contains("not found") || lower.contains("no password was provided")
            || lower.contains("may not run sudo") || lower.contains("no tty present")
    }

    /// The verdict once the command has exited with `status` (nil: no exit status came back).
    public func verdict(exitStatus status: Int?) -> InstallFailure? {
        if let failure { return failure }
        if status == 0 { return nil }
        if let sudoComplaint {
            return InstallFailure(.noSudo, "the user cannot run sudo on the target: \(sudoComplaint)")
        }
        let detail = stderrTail.last.map { ": \($0)" } ?? ""
        guard let status else { return InstallFailure(.installFailed, "the install command ended without an exit status\(detail)") }
        return InstallFailure(.installFailed, "the install command exited with status \(status)\(detail)")
    }
}
