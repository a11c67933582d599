internal import Foundation

/// Where `dvic` writes: unbuffered writes to stdout and stderr (so progress lines,
/// terminal output and results never reorder), and JSON in one stable form.
public enum Console {
    public static func out(_ text: String, newline: Bool = true) {
        write(fd: 1, newline ? text + "\n" : text)
    }

    public static func err(_ text: String, newline: Bool = true) {
        write(fd: 2, newline ? text + "\n" : text)
    }

    public static func write(fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        write(fd: fd, bytes: &bytes)
    }

    public static func write(fd: Int32, bytes: inout [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return
                }
                offset += count
            }
        }
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Pretty-printed with sorted keys: the same input always gives the same text.
    public static func json(_ value: some Encodable) throws(CLIError) -> String {
        try encode(value, pretty: true)
    }

    /// One line, sorted keys: for NDJSON streams.
    public static func jsonLine(_ value: some Encodable) throws(CLIError) -> String {
        try encode(value, pretty: false)
    }

    static func encode(_ value: some Encodable, pretty: Bool) throws(CLIError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .server("cannot write JSON: \(error)")
        }
    }

    /// Milliseconds since the epoch, now.
    public static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
