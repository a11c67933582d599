#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension LogFileHeader {
    /// Reads a header from the file's first line (without its newline).
    public static func parse(line: some StringProtocol) throws(LogFileHeaderError) -> LogFileHeader {
        try parse(bytes: Array(line.utf8))
    }

    /// Reads a header from the bytes of the file's first line (without its newline).
    public static func parse(bytes: some Collection<UInt8>) throws(LogFileHeaderError) -> LogFileHeader {
        let data = Data(bytes)
        let header: LogFileHeader
        do {
            header = try JSONDecoder().decode(LogFileHeader.self, from: data)
        } catch let error as DecodingError {
            // A later version may drop or retype fields; say so rather than blame a field.
            if let probe = try? JSONDecoder().decode(VersionProbe.self, from: data), probe.version != currentVersion {
                throw unsupported(probe.version)
            }
            switch error {
            case .dataCorrupted(let context) where context.codingPath.isEmpty:
                throw LogFileHeaderError(code: .malformedJSON, message: "the first line is not JSON")
            case .typeMismatch(_, let context) where context.codingPath.isEmpty:
                throw LogFileHeaderError(code: .malformedJSON, message: "the first line is not a JSON object")
            case .keyNotFound(let key, _):
                throw LogFileHeaderError(code: .invalidField, message: "the header has no \"\(key.stringValue)\"")
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                throw LogFileHeaderError(code: .invalidField, message: "the header's \"\(path)\" has the wrong type")
            @unknown default:
                throw LogFileHeaderError(code: .malformedJSON, message: "the first line is not a header")
            }
        } catch {
            throw LogFileHeaderError(code: .malformedJSON, message: "the first line is not a header")
        }
        guard header.version == currentVersion else { throw unsupported(header.version) }
        return header
    }

    private struct VersionProbe: Decodable {
        var version: Int
        enum CodingKeys: String, CodingKey { case version = "dvic_log" }
    }

    private static func unsupported(_ version: Int) -> LogFileHeaderError {
        LogFileHeaderError(code: .unsupportedVersion, message: "dvic_log \(version) is not a known format version")
    }

    /// The header as one line of JSON, without the newline.
    ///
    /// Written by hand rather than with an encoder: the keys come in the documented order, which
    /// keeps files easy to read and diff, and no writer pays for a JSON encoder.
    public func jsonLine() -> String {
        var out = "{\"dvic_log\": \(version), \"pid\": \(pid), \"exe\": "
        Self.appendJSONString(exe, to: &out)
        out += ", \"argv\": ["
        for (index, argument) in argv.enumerated() {
            if index > 0 { out += ", " }
            Self.appendJSONString(argument, to: &out)
        }
        out += "], \"user\": "
        Self.appendJSONString(user, to: &out)
        out += ", \"name\": "
        Self.appendJSONString(name, to: &out)
        out += ", \"started\": "
        Self.appendJSONString(started, to: &out)
        if let lib {
            out += ", \"lib\": "
            Self.appendJSONString(lib, to: &out)
        }
        if let prev {
            out += ", \"prev\": "
            Self.appendJSONString(prev, to: &out)
        }
        out += "}"
        return out
    }

    static func appendJSONString(_ value: String, to out: inout String) {
        let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        out.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}":
                // The header must stay on one line, and JSON forbids raw control characters.
                out += "\\u00"
                out.append(hex[Int(scalar.value >> 4)])
                out.append(hex[Int(scalar.value & 0xF)])
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }
}
