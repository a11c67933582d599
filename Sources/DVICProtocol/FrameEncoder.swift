internal import DVICCompression
public import NIOCore

/// Turns messages into frames (Spec/protocol.md, section 3), compressing payloads
/// when it pays.
///
/// One encoder per connection direction: it carries the metric delta state, and its
/// deflater is reused frame after frame. The deflater is made when the first payload
/// over the threshold comes, not before: zlib's state costs ~256 KiB, and a server
/// holding ten thousand agent connections, which mostly sends acks far below the
/// threshold, would pay gigabytes for deflaters it never uses.
public struct FrameEncoder {
    /// When and how payloads are deflated.
    public struct Compression: Sendable, Hashable {
        /// Payloads shorter than this are sent as they are; tiny payloads grow when deflated.
        public var threshold: Int
        /// The preset dictionary to deflate with, which the peer must have announced.
        public var dictionaryID: UInt8
        public var level: Int32

        public init(threshold: Int = 128, dictionaryID: UInt8 = 0, level: Int32 = 6) {
            self.threshold = threshold
            self.dictionaryID = dictionaryID
            self.level = level
        }

        public static let `default` = Compression()
    }

    public let limits: ProtocolLimits
    public let compression: Compression?
    public private(set) var metrics = MetricCodecState()
    private var deflater: ZlibDeflater?
    private let dictionary: [UInt8]?
    private var scratch: ByteBuffer
    private var deflated: ByteBuffer

    /// - Parameter compression: nil never deflates.
    public init(limits: ProtocolLimits = .default, compression: Compression? = .default) throws(ProtocolError) {
        self.limits = limits
        self.compression = compression
        if let compression {
            var dictionary: [UInt8]? = nil
            if compression.dictionaryID != 0 {
                guard let known = PresetDictionary.bytes(id: compression.dictionaryID) else {
                    throw .unknownDictionary(compression.dictionaryID)
                }
                dictionary = known
            }
            self.dictionary = dictionary
        } else {
            self.dictionary = nil
        }
        self.deflater = nil
        self.scratch = ByteBuffer()
        self.scratch.reserveCapacity(4096)
        self.deflated = ByteBuffer()
    }

    /// Appends one frame carrying `message` to `output`.
    public mutating func encode(_ message: Message, into output: inout ByteBuffer) throws(ProtocolError) {
        // Lend the reused scratch storage to the writer; swapping keeps it uniquely
        // referenced, so writes never copy.
        var writer = WireWriter(buffer: ByteBuffer(), limits: limits)
        swap(&writer.buffer, &scratch)
        writer.buffer.clear()
        try message.write(to: &writer, metrics: &metrics)
        swap(&writer.buffer, &scratch)
        let payloadLength = scratch.readableBytes
        guard payloadLength <= limits.maxPayloadLength else { throw .payloadTooLarge(limit: limits.maxPayloadLength) }

        var flags = FrameFlags()
        var payload = scratch
        if let compression, payloadLength >= compression.threshold {
            if deflater == nil {
                do {
                    deflater = try ZlibDeflater(level: compression.level, dictionary: dictionary)
                } catch {
                    throw .inflateFailed(error)
                }
            }
            let deflater = deflater!
            deflated.clear()
            let result: Result<Void, CompressionError> = scratch.withUnsafeReadableBytes { bytes in
                Result { () throws(CompressionError) in try deflater.compress(bytes, into: &deflated) }
            }
            if case .failure(let error) = result { throw .inflateFailed(error) }
            if deflated.readableBytes < payloadLength {
                flags = FrameFlags(deflated: true, dictionaryID: compression.dictionaryID)
                payload = deflated
            }
        }
        let frameLength = 2 + payload.readableBytes
        guard frameLength <= limits.maxFrameLength else {
            throw .frameTooLarge(frameLength, limit: limits.maxFrameLength)
        }
        output.writeInteger(UInt32(frameLength), endianness: .big)
        output.writeInteger(flags.byte)
        output.writeInteger(message.type.rawValue)
        output.writeImmutableBuffer(payload)
    }

    /// One buffer holding one frame per message, as sent in one WebSocket message.
    public mutating func encode(_ messages: [Message]) throws(ProtocolError) -> ByteBuffer {
        var output = ByteBuffer()
        for message in messages { try encode(message, into: &output) }
        return output
    }
}
