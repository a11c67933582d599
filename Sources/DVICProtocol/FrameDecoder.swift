internal import DVICCompression
public import NIOCore

/// Turns bytes into messages (Spec/protocol.md, section 3).
///
/// As a `NIOSingleStepByteToMessageDecoder` it leaves the reader index where it was
/// on short input and checks the length field against the limit before waiting for
/// the rest, so a hostile length costs nothing. Over WebSocket, `decode(message:)`
/// takes one binary message of whole frames.
///
/// One decoder per connection direction: it carries the metric delta state.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Message

    public let limits: ProtocolLimits
    /// Preset dictionary ids this side accepts.
    public let dictionaryIDs: Set<UInt8>
    public private(set) var metrics = MetricCodecState()
    private var inflater: ZlibInflater?

    public init(limits: ProtocolLimits = .default, dictionaryIDs: Set<UInt8> = PresetDictionary.knownIDs) {
        self.limits = limits
        self.dictionaryIDs = dictionaryIDs
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Message? {
        try decodeFrame(&buffer)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Message? {
        if let message = try decodeFrame(&buffer) { return message }
        if seenEOF && buffer.readableBytes > 0 { throw ProtocolError.truncated }
        return nil
    }

    /// Decodes the next frame, or returns nil (consuming nothing) when it is not all there.
    ///
    /// On `unknown_message_type` the frame has been consumed and the next call reads
    /// the following one; after any other error the stream is out of step.
    public mutating func decodeFrame(_ buffer: inout ByteBuffer) throws(ProtocolError) -> Message? {
        let start = buffer.readerIndex
        guard let length = buffer.getInteger(at: start, endianness: .big, as: UInt32.self) else { return nil }
        guard length >= 2 else { throw .frameTooShort(length) }
        guard length <= UInt32(limits.maxFrameLength) else { throw .frameTooLarge(Int(length), limit: limits.maxFrameLength) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        let flagsByte = buffer.getInteger(at: start + 4, as: UInt8.self)!
        let typeByte = buffer.getInteger(at: start + 5, as: UInt8.self)!
        var payload = buffer.getSlice(at: start + 6, length: Int(length) - 2)!
        buffer.moveReaderIndex(forwardBy: 4 + Int(length))

        let flags = try FrameFlags(byte: flagsByte)
        guard let type = MessageType(rawValue: typeByte) else { throw .unknownMessageType(typeByte) }
        if flags.deflated {
            try inflate(&payload, dictionaryID: flags.dictionaryID)
        }
        let limits = self.limits
        let result: Result<Message, ProtocolError> = payload.withUnsafeReadableBytes { bytes in
            Result { () throws(ProtocolError) in
                var reader = WireReader(bytes, limits: limits)
                return try Message.read(type: type, from: &reader, metrics: &metrics)
            }
        }
        return try result.get()
    }

    /// Decodes one WebSocket binary message: whole frames, none split across messages.
    ///
    /// `onRecoverable` hears each `unknown_message_type` (the decoder skips those
    /// frames); any other error ends the call and the connection.
    public mutating func decode(
        message: ByteBuffer,
        onRecoverable: (ProtocolError) -> Void = { _ in }
    ) throws(ProtocolError) -> [Message] {
        guard message.readableBytes <= limits.maxMessageLength else {
            throw .frameTooLarge(message.readableBytes, limit: limits.maxMessageLength)
        }
        var buffer = message
        var messages: [Message] = []
        while buffer.readableBytes > 0 {
            do throws(ProtocolError) {
                guard let decoded = try decodeFrame(&buffer) else { throw ProtocolError.incompleteMessage }
                messages.append(decoded)
            } catch where error.isRecoverable {
                onRecoverable(error)
            }
        }
        return messages
    }

    private mutating func inflate(_ payload: inout ByteBuffer, dictionaryID: UInt8) throws(ProtocolError) {
        var dictionary: [UInt8]? = nil
        if dictionaryID != 0 {
            guard dictionaryIDs.contains(dictionaryID), let bytes = PresetDictionary.bytes(id: dictionaryID) else {
                throw .unknownDictionary(dictionaryID)
            }
            dictionary = bytes
        }
        if inflater == nil {
            do {
                inflater = try ZlibInflater(dictionaries: PresetDictionary.all)
            } catch {
                throw .inflateFailed(error)
            }
        }
        let inflater = self.inflater!
        let limit = limits.maxPayloadLength
        var output = ByteBuffer()
        let result: Result<Void, CompressionError> = payload.withUnsafeReadableBytes { bytes in
            Result { () throws(CompressionError) in
                try inflater.decompress(bytes, into: &output, expectedDictionary: dictionary, limit: limit)
            }
        }
        switch result {
        case .success:
            payload = output
        case .failure(let error):
            if error == .outputTooLarge(limit: limit) { throw .payloadTooLarge(limit: limit) }
            throw .inflateFailed(error)
        }
    }
}
