import DVICLogFormat
import Testing

@Suite("LogFileName")
struct LogFileNameTests {
    @Test("demo log names", arguments: [
        ("dvic_log_Ab3dEf6hIj9kLm0p", "Ab3dEf6hIj9kLm0p"),
        ("dvic_log_12345678", "12345678"),
        ("dvic_log_a-b_c-d_", "a-b_c-d_"),
        ("dvic_log_" + String(repeating: "x", count: 64), String(repeating: "x", count: 64)),
    ])
    func names(name: String, token: String) {
        #expect(LogFileName.isLogFile(name))
        #expect(LogFileName.token(fromFileName: name) == Substring(token))
        #expect(LogFileName.fileName(token: token) == name)
    }

    @Test("other names", arguments: [
        "dvic_log_", "dvic_log_1234567", "dvic_log_" + String(repeating: "x", count: 65), "dvic_log_abc.defgh",
        "dvic_log_abcdefgh.tmp", "xdvic_log_abcdefgh", "dvic-log-abcdefgh", "DVIC_LOG_abcdefgh", "dvic_log_abcdéfgh",
        "dvic_log_abc defgh", "dvic_log_../../etc",
    ])
    func otherNames(name: String) {
        #expect(!LogFileName.isLogFile(name))
        #expect(LogFileName.token(fromFileName: name) == nil)
    }

    @Test("random tokens are 16 letters and digits, and differ")
    func randomTokens() {
        let tokens = (0..<200).map { _ in LogFileName.randomToken() }
        for token in tokens {
            #expect(token.utf8.count == 16)
            #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            #expect(LogFileName.isValidToken(token))
        }
        #expect(Set(tokens).count == tokens.count)
    }
}
