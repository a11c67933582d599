#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The message escapes keep one record on one line: `\` is written `\\`, a newline `\n` and a
// carriage return `\r`. Readers decode exactly those three and keep any other backslash sequence
// as it is (a lone trailing backslash too), so text from a writer that never escaped survives.
extension LogRecord {
    /// The message as a record line carries it.
    public static func escape(_ message: String) -> String {
        var bytes: [UInt8] = []
        appendEscaped(message, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The message that a record line's text stands for.
    public static func unescape(_ text: some StringProtocol) -> String {
        var text = String(text)
        return text.withUTF8 { unescape(bytes: $0) }
    }

    static func appendEscaped(_ message: String, to bytes: inout [UInt8]) {
        var message = message
        message.withUTF8 { source in
            var runStart = 0
            for index in 0..<source.count {
                let replacement: UInt8
                switch source[index] {
                case UInt8(ascii: "\\"): replacement = UInt8(ascii: "\\")
                case UInt8(ascii: "\n"): replacement = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): replacement = UInt8(ascii: "r")
                default: continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<index]))
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(replacement)
                runStart = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart...]))
        }
    }

    /// Decodes the escapes and repairs invalid UTF-8 with U+FFFD.
    ///
    /// Escapes are ASCII, so decoding them byte by byte before the UTF-8 repair cannot change how
    /// any other character reads.
    static func unescape(bytes text: UnsafeBufferPointer<UInt8>) -> String {
        guard let base = text.baseAddress, memchr(base, Int32(UInt8(ascii: "\\")), text.count) != nil else {
            return String(decoding: text, as: UTF8.self)
        }
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\\"), index + 1 < text.count {
                switch text[index + 1] {
                case UInt8(ascii: "\\"):
                    output.append(UInt8(ascii: "\\"))
                    index += 2
                    continue
                case UInt8(ascii: "n"):
                    output.append(UInt8(ascii: "\n"))
                    index += 2
                    continue
                case UInt8(ascii: "r"):
                    output.append(UInt8(ascii: "\r"))
                    index += 2
                    continue
                default:
                    break
                }
            }
            output.append(byte)
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}
