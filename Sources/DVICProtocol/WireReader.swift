/// Reads the Spec's field encodings from a payload held in memory.
///
/// Works on a raw pointer because it sits on the hottest path (log batches at
/// GB/s); every read checks the remaining length first, so the pointer never leaves
/// the buffer. Lists are bounded by `limits.maxListCount` *and* by the bytes left
/// (every element takes at least one byte), so a hostile count never sizes an
/// allocation. Use it only inside the closure that lends the pointer.
public struct WireReader {
    @usableFromInline let base: UnsafeRawBufferPointer
    @usableFromInline var index: Int
    public let limits: ProtocolLimits

    public init(_ base: UnsafeRawBufferPointer, limits: ProtocolLimits) {
        self.base = base
        self.index = 0
        self.limits = limits
    }

    public var remaining: Int { base.count - index }

    @inlinable
    public mutating func readByte() throws(ProtocolError) -> UInt8 {
        guard index < base.count else { throw .truncated }
        let byte = base[index]
        index += 1
        return byte
    }

    public mutating func readBool() throws(ProtocolError) -> Bool {
        switch try readByte() {
        case 0: return false
        case 1: return true
        case let other: throw .invalidValue("boolean byte \(other)")
        }
    }

    /// Unsigned LEB128, at most 10 bytes, minimal (no trailing zero groups).
    @inlinable
    public mutating func readVarint() throws(ProtocolError) -> UInt64 {
        guard index < base.count else { throw .truncated }
        let first = base[index]
        if first < 0x80 {
            index += 1
            return UInt64(first)
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var position = index
        while true {
            guard position < base.count else { throw .truncated }
            let byte = base[position]
            position += 1
            if shift == 63 && byte > 1 { throw .badVarint }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                // A zero last group means a shorter encoding existed.
                if byte == 0 { throw .badVarint }
                break
            }
            shift += 7
            if shift > 63 { throw .badVarint }
        }
        index = position
        return result
    }

    /// A varint that must fit in `Int` and in the remaining bytes (as a length).
    @inlinable
    public mutating func readLength() throws(ProtocolError) -> Int {
        let value = try readVarint()
        guard value <= UInt64(remaining) else { throw .truncated }
        return Int(value)
    }

    /// A count of list elements, each of which takes at least one byte.
    public mutating func readCount() throws(ProtocolError) -> Int {
        let value = try readVarint()
        guard value <= UInt64(remaining), value <= UInt64(limits.maxListCount) else {
            throw .countTooLarge(value, limit: limits.maxListCount)
        }
        return Int(value)
    }

    public mutating func readUInt32() throws(ProtocolError) -> UInt32 {
        let value = try readVarint()
        guard value <= UInt64(UInt32.max) else { throw .invalidValue("\(value) does not fit 32 bits") }
        return UInt32(value)
    }

    /// Zigzag-encoded signed varint.
    @inlinable
    public mutating func readSigned() throws(ProtocolError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// IEEE 754 binary64, big-endian.
    public mutating func readDouble() throws(ProtocolError) -> Double {
        guard remaining >= 8 else { throw .truncated }
        var bits: UInt64 = 0
        for offset in 0..<8 {
            bits = bits << 8 | UInt64(base[index + offset])
        }
        index += 8
        return Double(bitPattern: bits)
    }

    @inlinable
    public mutating func readString() throws(ProtocolError) -> String {
        let length = try readLength()
        if length == 0 { return "" }
        let bytes = UnsafeRawBufferPointer(rebasing: base[index..<(index + length)])
        guard let string = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw .invalidUTF8
        }
        index += length
        return string
    }

    public mutating func readBytes() throws(ProtocolError) -> [UInt8] {
        let length = try readLength()
        let bytes = Array(UnsafeRawBufferPointer(rebasing: base[index..<(index + length)]))
        index += length
        return bytes
    }

    /// Bytes whose length the Spec fixes (a nonce, a signature, a hash).
    public mutating func readBytes(exactly count: Int, what: String) throws(ProtocolError) -> [UInt8] {
        let bytes = try readBytes()
        guard bytes.count == count else { throw .invalidValue("\(what) must be \(count) bytes, got \(bytes.count)") }
        return bytes
    }

    public mutating func readStrings() throws(ProtocolError) -> [String] {
        let count = try readCount()
        var strings: [String] = []
        strings.reserveCapacity(count)
        for _ in 0..<count { strings.append(try readString()) }
        return strings
    }

    public mutating func readPairs() throws(ProtocolError) -> [KeyValue] {
        let count = try readCount()
        var pairs: [KeyValue] = []
        pairs.reserveCapacity(count)
        for _ in 0..<count {
            let key = try readString()
            let value = try readString()
            pairs.append(KeyValue(key, value))
        }
        return pairs
    }

    /// A one-byte enumeration, rejected when outside the Spec's values.
    public mutating func readEnum<E: RawRepresentable>(_ type: E.Type) throws(ProtocolError) -> E where E.RawValue == UInt8 {
        let raw = try readByte()
        guard let value = E(rawValue: raw) else { throw .invalidValue("\(E.self) \(raw)") }
        return value
    }
}
