internal import CZlib
public import NIOCore

/// Compresses whole payloads into independent zlib (RFC 1950) streams.
///
/// One instance keeps its zlib state and resets it between payloads, because
/// `deflateInit` allocates about 256 KiB and doing that per frame would dominate.
/// Not thread-safe: give each connection or thread its own.
public final class ZlibDeflater {
    private var stream = z_stream()
    private let dictionary: [UInt8]?

    /// - Parameters:
    ///   - level: zlib level, 1 (fast) to 9 (small); 6 is zlib's default.
    ///   - dictionary: a preset dictionary, which the inflating side must also hold.
    public init(level: Int32 = 6, dictionary: [UInt8]? = nil) throws(CompressionError) {
        self.dictionary = dictionary
        // windowBits 15: the zlib wrapper, which browsers' DecompressionStream('deflate') reads.
        let status = dvic_deflateInit2(&stream, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY)
        guard status == Z_OK else { throw .initFailed(status) }
        if let dictionary {
            try Self.setDictionary(&stream, dictionary)
        }
    }

    deinit {
        deflateEnd(&stream)
    }

    private static func setDictionary(_ stream: inout z_stream, _ dictionary: [UInt8]) throws(CompressionError) {
        let status = dictionary.withUnsafeBufferPointer { dict in
            deflateSetDictionary(&stream, dict.baseAddress, uInt(dict.count))
        }
        guard status == Z_OK else { throw .internalFailure(status) }
    }

    /// Appends the compressed form of `input` to `output`.
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) throws(CompressionError) {
        defer {
            // Reset after use rather than before, so a failed call never leaves state behind.
            _ = deflateReset(&stream)
            if let dictionary { try? Self.setDictionary(&stream, dictionary) }
        }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        let result: Result<Void, CompressionError> = output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            let status = deflate(&stream, Z_FINISH)
            let written = out.count - Int(stream.avail_out)
            stream.next_in = nil
            stream.next_out = nil
            // deflateBound guarantees room for the whole stream in one call.
            guard status == Z_STREAM_END else { return (0, .failure(.internalFailure(status))) }
            return (written, .success(()))
        }
        try result.get()
    }

    /// Convenience for tests and benchmarks.
    public func compress(_ input: ByteBuffer) throws(CompressionError) -> ByteBuffer {
        var output = ByteBuffer()
        let result: Result<Void, CompressionError> = input.withUnsafeReadableBytes { bytes in
            Result { () throws(CompressionError) in try compress(bytes, into: &output) }
        }
        try result.get()
        return output
    }
}

extension ByteBuffer {
    /// `writeWithUnsafeMutableBytes` whose closure also returns a value, since the NIO
    /// one returns only the count written.
    mutating func writeWithUnsafeMutableBytes<T>(
        minimumWritableBytes: Int,
        _ body: (UnsafeMutableRawBufferPointer) -> (Int, T)
    ) -> T {
        var value: T?
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: minimumWritableBytes) { pointer in
            let (written, result) = body(pointer)
            value = result
            return written
        }
        return value!
    }
}
