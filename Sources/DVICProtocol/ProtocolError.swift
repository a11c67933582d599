public import DVICCompression

/// Why a frame or message could not be decoded or encoded.
///
/// Every hostile or broken input maps to one of these; none of them traps. `name` is
/// the stable identifier that `Spec/protocol.md` and the vectors in `Spec/vectors/`
/// use, so tests compare against the Spec rather than against Swift spellings.
public struct ProtocolError: Error, Hashable, CustomStringConvertible {
    private enum Code: String, Hashable {
        case truncated = "truncated"
        case frameTooShort = "frame_too_short"
        case frameTooLarge = "frame_too_large"
        case unsupportedVersion = "unsupported_version"
        case reservedFlags = "reserved_flags"
        case unknownDictionary = "unknown_dictionary"
        case inflateFailed = "inflate_failed"
        case payloadTooLarge = "payload_too_large"
        case unknownMessageType = "unknown_message_type"
        case badVarint = "bad_varint"
        case invalidUTF8 = "invalid_utf8"
        case countTooLarge = "count_too_large"
        case invalidValue = "invalid_value"
        case unknownMetric = "unknown_metric"
        case incompleteMessage = "incomplete_message"
    }

    private let code: Code
    /// Detail for logs and the wire `error` message; never payload contents.
    public let message: String
    /// The compression failure behind an `inflate_failed`, if any.
    public let underlying: CompressionErrorBox?

    private init(_ code: Code, _ message: String, underlying: CompressionErrorBox? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The Spec's identifier for this kind of error, e.g. `frame_too_large`.
    public var name: String { code.rawValue }

    /// Whether the byte stream is still in step after this error. Only an unknown
    /// message type leaves it so: the frame was well formed and fully consumed, so a
    /// receiver may report it and carry on. After any other error it must close.
    public var isRecoverable: Bool { code == .unknownMessageType }

    public static let truncated = Self(.truncated, "input ends in the middle of a field")
    public static func frameTooShort(_ length: UInt32) -> Self {
        .init(.frameTooShort, "frame length \(length) is below the 2-byte minimum")
    }
    public static func frameTooLarge(_ length: Int, limit: Int) -> Self {
        .init(.frameTooLarge, "frame length \(length) exceeds the limit of \(limit)")
    }
    public static func unsupportedVersion(_ version: UInt8) -> Self {
        .init(.unsupportedVersion, "protocol version \(version) is not supported")
    }
    public static func reservedFlags(_ flags: UInt8) -> Self {
        .init(.reservedFlags, "flags byte 0x\(String(flags, radix: 16)) sets a reserved combination")
    }
    public static func unknownDictionary(_ id: UInt8) -> Self {
        .init(.unknownDictionary, "preset dictionary \(id) is not known to this peer")
    }
    public static func inflateFailed(_ error: CompressionError) -> Self {
        .init(.inflateFailed, "payload does not inflate: \(error.message)", underlying: CompressionErrorBox(error))
    }
    public static func payloadTooLarge(limit: Int) -> Self {
        .init(.payloadTooLarge, "payload exceeds \(limit) bytes once inflated")
    }
    public static func unknownMessageType(_ type: UInt8) -> Self {
        .init(.unknownMessageType, "message type 0x\(String(type, radix: 16)) is not known")
    }
    public static let badVarint = Self(.badVarint, "varint is longer than 10 bytes, overflows, or is not minimal")
    public static let invalidUTF8 = Self(.invalidUTF8, "string is not valid UTF-8")
    public static func countTooLarge(_ count: UInt64, limit: Int) -> Self {
        .init(.countTooLarge, "count \(count) exceeds what remains or the limit of \(limit)")
    }
    public static func invalidValue(_ what: String) -> Self { .init(.invalidValue, "invalid value: \(what)") }
    public static func unknownMetric(_ id: UInt64) -> Self {
        .init(.unknownMetric, "metric id \(id) was not described on this connection")
    }
    public static let incompleteMessage = Self(.incompleteMessage, "a WebSocket message ends in the middle of a frame")

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { "\(name): \(message)" }
}

/// Keeps `ProtocolError` Hashable while carrying the compression detail.
public struct CompressionErrorBox: Hashable, Sendable {
    public let error: String
    init(_ error: any Error) { self.error = "\(error)" }
}
