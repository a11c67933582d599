import DVICLogFormat
import Foundation
import Testing

@Suite("LogFileHeader")
struct LogFileHeaderTests {
    static let header = LogFileHeader(
        pid: 1234, exe: "/usr/bin/python3", argv: ["python3", "demo.py", "--flag=\"quoted\"", "tab\there", "nl\nx"],
        user: "pi", name: "camera-demo", started: "2026-11-28T10:00:00.000Z")

    @Test("the contract's example line")
    func contractExample() throws {
        let line =
            #"{"dvic_log": 1, "pid": 1234, "exe": "/usr/bin/python3", "argv": ["python3", "demo.py"], "user": "pi", "name": "camera-demo", "started": "2026-11-28T10:00:00.000Z"}"#
        let header = try LogFileHeader.parse(line: line)
        #expect(header.version == 1)
        #expect(header.pid == 1234)
        #expect(header.exe == "/usr/bin/python3")
        #expect(header.argv == ["python3", "demo.py"])
        #expect(header.user == "pi")
        #expect(header.name == "camera-demo")
        #expect(header.startedMilliseconds == 1_795_860_000_000)
        #expect(header.lib == nil && header.prev == nil)
        var plain = header
        plain.argv = ["python3", "demo.py"]
        #expect(plain.jsonLine() == line)
    }

    @Test("one line of JSON that parses back, with lib and prev")
    func roundTrip() throws {
        var header = Self.header
        header.lib = "swift/1.0.0"
        header.prev = "AbCdEfGh12345678"
        header.name = "odd \u{01} name \"with\" \\ and é 🚀"
        let line = header.jsonLine()
        #expect(!line.contains("\n") && !line.contains("\r"))
        #expect(line.hasSuffix(#""lib": "swift/1.0.0", "prev": "AbCdEfGh12345678"}"#))
        #expect(try LogFileHeader.parse(line: line) == header)
        // Any JSON reader reads it the same way.
        let viaFoundation = try JSONDecoder().decode(LogFileHeader.self, from: Data(line.utf8))
        #expect(viaFoundation == header)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["dvic_log"] as? Int == 1)
        #expect(object["name"] as? String == header.name)
    }

    @Test("Codable encoding decodes back")
    func codable() throws {
        let data = try JSONEncoder().encode(Self.header)
        #expect(try JSONDecoder().decode(LogFileHeader.self, from: data) == Self.header)
    }

    @Test(
        "errors carry a code",
        arguments: [
            ("", "malformedJSON"),
            ("not json", "malformedJSON"),
            ("{\"dvic_log\": 1", "malformedJSON"),
            ("[]", "malformedJSON"),
            ("42", "malformedJSON"),
            (#"{"dvic_log": 1, "pid": 1, "started": "x"}"#, "invalidField"),
            (#"{"dvic_log": 1, "pid": "1", "name": "n", "started": "x"}"#, "invalidField"),
            (#"{"dvic_log": 1, "pid": 99999999999, "exe": "", "argv": [], "user": "u", "name": "n", "started": "x"}"#, "invalidField"),
            (#"{"dvic_log": 1, "pid": 0, "exe": "", "argv": [], "user": "u", "name": "n", "started": "x"}"#, "invalidField"),
            (#"{"dvic_log": 1, "pid": -5, "exe": "", "argv": [], "user": "u", "name": "n", "started": "x"}"#, "invalidField"),
            (#"{"dvic_log": 1, "pid": 1, "argv": [], "user": "u", "name": "n", "started": "x"}"#, "invalidField"),
            (#"{"dvic_log": 1, "pid": 1, "exe": "", "argv": [1], "user": "u", "name": "n", "started": "x"}"#, "invalidField"),
            (#"{"dvic_log": 1, "pid": 1, "name": "n", "started": "x", "argv": "a b"}"#, "invalidField"),
            (#"{"dvic_log": "1", "pid": 1, "name": "n", "started": "x"}"#, "invalidField"),
            (#"{"dvic_log": 2, "pid": 1, "name": "n", "started": "x"}"#, "unsupportedVersion"),
            (#"{"dvic_log": 0}"#, "unsupportedVersion"),
        ])
    func errors(line: String, code: String) {
        do throws(LogFileHeaderError) {
            _ = try LogFileHeader.parse(line: line)
            Issue.record("parsed \(line)")
        } catch {
            #expect(error.code.description == code)
            #expect(!error.message.isEmpty)
        }
    }

    @Test("started that is no date-time is kept but has no milliseconds")
    func oddStarted() throws {
        let header = try LogFileHeader.parse(
            line: #"{"dvic_log": 1, "pid": 1, "exe": "", "argv": [], "user": "0", "name": "n", "started": "soon"}"#)
        #expect(header.started == "soon")
        #expect(header.startedMilliseconds == nil)
    }
}
