public import NIOCore

/// Writes the Spec's field encodings into a `ByteBuffer`.
///
/// It refuses to write what a decoder with the same limits would refuse (an
/// over-long list, a fixed-size field of the wrong size), so a bug on the sending
/// side shows up where it is made rather than as a closed connection.
public struct WireWriter {
    public var buffer: ByteBuffer
    public let limits: ProtocolLimits

    public init(buffer: ByteBuffer, limits: ProtocolLimits = .default) {
        self.buffer = buffer
        self.limits = limits
    }

    public mutating func writeCount(_ count: Int) throws(ProtocolError) {
        guard count <= limits.maxListCount else { throw .countTooLarge(UInt64(count), limit: limits.maxListCount) }
        writeVarint(UInt64(count))
    }

    @inlinable
    public mutating func writeByte(_ byte: UInt8) {
        buffer.writeInteger(byte)
    }

    public mutating func writeBool(_ value: Bool) {
        buffer.writeInteger(value ? UInt8(1) : 0)
    }

    @inlinable
    public mutating func writeVarint(_ value: UInt64) {
        if value < 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value))
            return
        }
        // Compose up to 10 bytes in a register-sized scratch, then write once.
        var scratch: (UInt64, UInt64) = (0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &scratch) { bytes in
            while rest >= 0x80 {
                bytes[count] = UInt8(truncatingIfNeeded: rest) | 0x80
                rest >>= 7
                count += 1
            }
            bytes[count] = UInt8(truncatingIfNeeded: rest)
            count += 1
        }
        withUnsafeBytes(of: &scratch) { bytes in
            _ = buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
        }
    }

    public mutating func writeVarint(_ value: Int) {
        precondition(value >= 0, "lengths and counts are never negative")
        writeVarint(UInt64(value))
    }

    public mutating func writeVarint(_ value: UInt32) {
        writeVarint(UInt64(value))
    }

    /// Zigzag: small magnitudes of either sign take few bytes.
    @inlinable
    public mutating func writeSigned(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func writeDouble(_ value: Double) {
        buffer.writeInteger(value.bitPattern, endianness: .big)
    }

    @inlinable
    public mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            buffer.writeBytes(UnsafeRawBufferPointer(utf8))
        }
    }

    public mutating func writeBytes(_ bytes: [UInt8]) {
        writeVarint(UInt64(bytes.count))
        buffer.writeBytes(bytes)
    }

    /// Bytes whose length the Spec fixes (a nonce, a signature, a hash).
    public mutating func writeBytes(_ bytes: [UInt8], exactly count: Int, what: String) throws(ProtocolError) {
        guard bytes.count == count else { throw .invalidValue("\(what) must be \(count) bytes, got \(bytes.count)") }
        writeBytes(bytes)
    }

    public mutating func writeStrings(_ strings: [String]) throws(ProtocolError) {
        try writeCount(strings.count)
        for string in strings { writeString(string) }
    }

    public mutating func writePairs(_ pairs: [KeyValue]) throws(ProtocolError) {
        try writeCount(pairs.count)
        for pair in pairs {
            writeString(pair.key)
            writeString(pair.value)
        }
    }

    public mutating func writeEnum<E: RawRepresentable>(_ value: E) where E.RawValue == UInt8 {
        buffer.writeInteger(value.rawValue)
    }
}
