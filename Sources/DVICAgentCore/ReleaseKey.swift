#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
public import Crypto

/// The release key's public half: what says an agent build is genuine. A build is signed with
/// Ed25519 over its SHA-256 digest (the 32 raw bytes), as `updateOffer.signature` says.
///
/// Its text form (the agent config's `release-key`, the server's `--release-key` file) is the
/// base64 of the raw 32-byte key; the PEM that `openssl pkey -pubout` writes (an Ed25519
/// SubjectPublicKeyInfo) and 64 hex digits are accepted too.
public struct ReleaseKey: Sendable, Hashable {
    public let rawRepresentation: [UInt8]

    public init(raw: [UInt8]) throws(UpdateError) {
        guard raw.count == 32 else { throw UpdateError(.invalidKey, "an Ed25519 public key has 32 bytes, not \(raw.count)") }
        do {
            _ = try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        } catch {
            throw UpdateError(.invalidKey, "not an Ed25519 public key")
        }
        self.rawRepresentation = raw
    }

    /// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw key follows.
    static let spkiPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// Base64 of the raw key, PEM `PUBLIC KEY`, or 64 hex digits.
    public init(text: String) throws(UpdateError) {
        let trimmed = text.trimmingASCIIWhitespace()
        if trimmed.hasPrefix("-----BEGIN PUBLIC KEY-----") {
            let body = trimmed.split(separator: "\n").map { $0.trimmingASCIIWhitespace() }.filter { !$0.hasPrefix("-----") }.joined()
            guard let der = Data(base64Encoded: body).map(Array.init), der.count == 44, der.starts(with: Self.spkiPrefix) else {
                throw UpdateError(.invalidKey, "the PEM is not an Ed25519 public key")
            }
            try self.init(raw: Array(der.suffix(32)))
        } else if trimmed.utf8.count == 64, let bytes = Self.hexBytes(trimmed) {
            try self.init(raw: bytes)
        } else if let bytes = Data(base64Encoded: trimmed).map(Array.init) {
            try self.init(raw: bytes)
        } else {
            throw UpdateError(.invalidKey, "a release key is base64 of 32 bytes, 64 hex digits, or a PEM public key")
        }
    }

    /// Base64 of the raw key: the agent config's `release-key` value.
    public var text: String { Data(rawRepresentation).base64EncodedString() }

    /// Whether `signature` is this key's over `digest` (a build's SHA-256).
    public func isValidSignature(_ signature: [UInt8], sha256 digest: [UInt8]) -> Bool {
        guard signature.count == 64, digest.count == 32,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)
        else { return false }
        return key.isValidSignature(signature, for: digest)
    }

    /// Checks a build: its digest is `sha256` and `signature` is the release key's over it.
    public func verify(digest: [UInt8], expectedSHA256: [UInt8], signature: [UInt8]) throws(UpdateError) {
        guard digest == expectedSHA256 else {
            throw UpdateError(.hashMismatch, "SHA-256 is \(Self.hex(digest)), the offer says \(Self.hex(expectedSHA256))")
        }
        guard isValidSignature(signature, sha256: digest) else {
            throw UpdateError(.badSignature, "the signature is not the release key's over this build")
        }
    }

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes of an even-length hex string; nil when it is not one.
    public static func hexBytes(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
