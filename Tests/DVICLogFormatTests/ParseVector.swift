import DVICLogFormat
import Foundation
import Testing

/// One file of `Spec/vectors/logfile/parse/`: bytes in, header and records out.
struct ParseVector: Decodable, CustomTestStringConvertible {
    /// A run of input bytes, or a message: a plain string, `{"text"}`, `{"base64"}` or `{"repeat", "times"}`.
    struct Segment: Decodable {
        var bytes: [UInt8]

        private enum CodingKeys: String, CodingKey { case text, base64, `repeat`, times }

        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                bytes = Array(text.utf8)
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let text = try container.decodeIfPresent(String.self, forKey: .text) {
                bytes = Array(text.utf8)
            } else if let base64 = try container.decodeIfPresent(String.self, forKey: .base64) {
                guard let data = Data(base64Encoded: base64) else {
                    throw DecodingError.dataCorruptedError(forKey: .base64, in: container, debugDescription: "bad base64")
                }
                bytes = Array(data)
            } else {
                let unit = try container.decode(String.self, forKey: .repeat)
                let times = try container.decode(Int.self, forKey: .times)
                bytes = Array(repeatElement(Array(unit.utf8), count: times).joined())
            }
        }
    }

    /// A message given as one string or as segments (for very long ones).
    struct Message: Decodable {
        var text: String

        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.text = text
            } else {
                let segments = try decoder.singleValueContainer().decode([Segment].self)
                text = String(decoding: segments.flatMap(\.bytes), as: UTF8.self)
            }
        }
    }

    struct ExpectedRecord: Decodable {
        var timestamp: String
        var level: String
        var message: Message
        var ends_line: Bool?
    }

    struct Expected: Decodable {
        var header: LogFileHeader?
        var header_error: String?
        var records: [ExpectedRecord]
        var offset: Int64
        var buffered_bytes: Int
    }

    var file: String = ""
    var description: String
    var read_time: String
    var max_line_bytes: Int?
    var start_offset: Int64?
    var finish: Bool?
    var input: [Segment]
    var expected: Expected

    private enum CodingKeys: String, CodingKey {
        case description, read_time, max_line_bytes, start_offset, finish, input, expected
    }

    var testDescription: String { file }

    var bytes: [UInt8] { input.flatMap(\.bytes) }

    static let directory = RepositoryRoot.url().appendingPathComponent("Spec/vectors/logfile/parse")

    static func all() -> [ParseVector] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { name in
            do {
                var vector = try JSONDecoder().decode(
                    ParseVector.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
                vector.file = name
                return vector
            } catch {
                fatalError("cannot read vector \(name): \(error)")
            }
        }
    }
}
