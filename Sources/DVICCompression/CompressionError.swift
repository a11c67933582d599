/// A failure of zlib compression or decompression.
///
/// A struct with a private code rather than a public enum, so that a new kind of
/// failure never breaks a caller's exhaustive `switch`.
public struct CompressionError: Error, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case initFailed
        case corruptData
        case truncatedData
        case outputTooLarge
        case dictionaryMismatch
        case dictionaryMissing
        case trailingData
        case internalFailure
    }

    private let code: Code
    /// Detail for people; never contains payload bytes.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func initFailed(_ status: Int32) -> Self { .init(.initFailed, "zlib init failed (\(status))") }
    public static func corruptData(_ detail: String) -> Self { .init(.corruptData, "corrupt deflate data: \(detail)") }
    public static let truncatedData = Self(.truncatedData, "deflate data ends before the stream does")
    public static func outputTooLarge(limit: Int) -> Self { .init(.outputTooLarge, "inflated data exceeds \(limit) bytes") }
    public static let dictionaryMismatch = Self(.dictionaryMismatch, "deflate data needs a different preset dictionary")
    public static let dictionaryMissing = Self(.dictionaryMissing, "deflate data needs a preset dictionary but none was given")
    public static let trailingData = Self(.trailingData, "bytes follow the end of the deflate stream")
    public static func internalFailure(_ status: Int32) -> Self { .init(.internalFailure, "zlib failed (\(status))") }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { message }
}
