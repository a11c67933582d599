/// The names of demo log files: `dvic_log_<token>`, the token `[A-Za-z0-9_-]{8,64}`.
public enum LogFileName {
    public static let prefix = "dvic_log_"
    public static let tokenLengths = 8...64
    /// Writers make tokens of this many random letters and digits.
    public static let generatedTokenLength = 16

    /// Whether `fileName` (a bare name, no directory) names a demo log file.
    public static func isLogFile(_ fileName: some StringProtocol) -> Bool {
        token(fromFileName: fileName) != nil
    }

    /// The token of a demo log's file name, or nil when the name is not one.
    public static func token(fromFileName fileName: some StringProtocol) -> Substring? {
        let name = Substring(fileName)
        guard name.hasPrefix(prefix) else { return nil }
        let token = name.dropFirst(prefix.utf8.count)
        return isValidToken(token) ? token : nil
    }

    /// Whether `token` matches `[A-Za-z0-9_-]{8,64}`.
    public static func isValidToken(_ token: some StringProtocol) -> Bool {
        let utf8 = token.utf8
        guard tokenLengths.contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    /// `dvic_log_<token>`.
    public static func fileName(token: some StringProtocol) -> String {
        prefix + token
    }

    /// A fresh token of `generatedTokenLength` letters and digits.
    public static func randomToken(using generator: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        let bytes = (0..<generatedTokenLength).map { _ in alphabet.randomElement(using: &generator)! }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A fresh token from the system's random source.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return randomToken(using: &generator)
    }
}
