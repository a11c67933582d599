internal import CZlib
public import NIOCore

/// Inflates whole zlib (RFC 1950) streams with a hard cap on the output size.
///
/// The cap is what stops an inflate bomb: output grows in steps and the call fails as
/// soon as it would pass the limit, so memory never follows a hostile ratio.
/// Not thread-safe; one instance is reused across payloads (about 40 KiB of state).
public final class ZlibInflater {
    private var stream = z_stream()
    private let dictionaries: [UInt32: [UInt8]]

    /// - Parameter dictionaries: preset dictionaries this side accepts, any of which a
    ///   stream may name by its Adler-32 checksum.
    public init(dictionaries: [[UInt8]] = []) throws(CompressionError) {
        var byChecksum: [UInt32: [UInt8]] = [:]
        for dictionary in dictionaries {
            let sum = dictionary.withUnsafeBufferPointer { adler32(1, $0.baseAddress, uInt($0.count)) }
            byChecksum[UInt32(truncatingIfNeeded: sum)] = dictionary
        }
        self.dictionaries = byChecksum
        let status = dvic_inflateInit2(&stream, 15)
        guard status == Z_OK else { throw .initFailed(status) }
    }

    deinit {
        inflateEnd(&stream)
    }

    /// Appends the inflated form of `input` to `output`.
    ///
    /// - Parameters:
    ///   - expectedDictionary: when not nil, the stream must use exactly this preset
    ///     dictionary; when nil, it must use none.
    ///   - limit: the most bytes the inflated output may have.
    public func decompress(
        _ input: UnsafeRawBufferPointer,
        into output: inout ByteBuffer,
        expectedDictionary: [UInt8]? = nil,
        limit: Int
    ) throws(CompressionError) {
        defer { _ = inflateReset(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        defer { stream.next_in = nil }
        var produced = 0
        var usedDictionary = false
        // Start near a typical ratio and grow; never reserve what the sender claims.
        var step = min(limit + 1, max(4096, input.count * 4))
        while true {
            let room = min(step, limit + 1 - produced)
            let status: Int32 = output.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { out in
                let usable = min(out.count, room)
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(usable)
                let status = inflate(&stream, Z_NO_FLUSH)
                let written = usable - Int(stream.avail_out)
                stream.next_out = nil
                return (written, status)
            }
            produced = Int(stream.total_out)
            if produced > limit { throw .outputTooLarge(limit: limit) }
            switch status {
            case Z_STREAM_END:
                if stream.avail_in != 0 { throw .trailingData }
                // A frame that names a dictionary must really use it, so the flags never lie.
                if expectedDictionary != nil && !usedDictionary { throw .dictionaryMismatch }
                return
            case Z_OK:
                if stream.avail_in == 0 && stream.avail_out != 0 { throw .truncatedData }
                step = min(step * 2, 1 << 20)
            case Z_BUF_ERROR:
                // No progress possible: input ran out mid-stream.
                if stream.avail_in == 0 { throw .truncatedData }
                step = min(step * 2, 1 << 20)
            case Z_NEED_DICT:
                guard let expectedDictionary else { throw .dictionaryMissing }
                let wanted = UInt32(truncatingIfNeeded: stream.adler)
                guard let known = dictionaries[wanted], known == expectedDictionary else { throw .dictionaryMismatch }
                let setStatus = known.withUnsafeBufferPointer {
                    inflateSetDictionary(&stream, $0.baseAddress, uInt($0.count))
                }
                guard setStatus == Z_OK else { throw .dictionaryMismatch }
                usedDictionary = true
            case Z_DATA_ERROR:
                throw .corruptData(stream.msg.map { String(cString: $0) } ?? "data error")
            default:
                throw .internalFailure(status)
            }
        }
    }

    /// Convenience for tests and benchmarks.
    public func decompress(_ input: ByteBuffer, expectedDictionary: [UInt8]? = nil, limit: Int) throws(CompressionError) -> ByteBuffer {
        var output = ByteBuffer()
        let result: Result<Void, CompressionError> = input.withUnsafeReadableBytes { bytes in
            Result { () throws(CompressionError) in
                try decompress(bytes, into: &output, expectedDictionary: expectedDictionary, limit: limit)
            }
        }
        try result.get()
        return output
    }
}
