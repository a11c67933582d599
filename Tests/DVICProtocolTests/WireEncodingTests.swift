@testable import DVICProtocol
import NIOCore
import Testing

@Suite struct WireEncodingTests {
    func roundTrip(_ write: (inout WireWriter) throws -> Void) throws -> [UInt8] {
        var writer = WireWriter(buffer: ByteBuffer())
        try write(&writer)
        return Array(writer.buffer.readableBytesView)
    }

    func read<T>(_ bytes: [UInt8], _ body: (inout WireReader) throws(ProtocolError) -> T) throws(ProtocolError) -> T {
        let result: Result<T, ProtocolError> = bytes.withUnsafeBytes { raw in
            Result { () throws(ProtocolError) in
                var reader = WireReader(raw, limits: .default)
                return try body(&reader)
            }
        }
        return try result.get()
    }

    @Test(arguments: [UInt64(0), 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max - 1, UInt64.max])
    func varintRoundTrip(_ value: UInt64) throws {
        let bytes = try roundTrip { $0.writeVarint(value) }
        #expect(bytes.count == max(1, (64 - value.leadingZeroBitCount + 6) / 7))
        #expect(try read(bytes) { (r: inout WireReader) throws(ProtocolError) in try r.readVarint() } == value)
    }

    @Test(arguments: [Int64(0), -1, 1, -64, 64, Int64.min, Int64.max, 1_795_867_200_123])
    func zigzagRoundTrip(_ value: Int64) throws {
        let bytes = try roundTrip { $0.writeSigned(value) }
        #expect(try read(bytes) { (r: inout WireReader) throws(ProtocolError) in try r.readSigned() } == value)
    }

    @Test func zigzagIsSmallForSmallMagnitudes() throws {
        #expect(try roundTrip { $0.writeSigned(-1) } == [0x01])
        #expect(try roundTrip { $0.writeSigned(1) } == [0x02])
        #expect(try roundTrip { $0.writeSigned(-64) } == [0x7F])
    }

    @Test func stringsKeepUnicode() throws {
        let text = "café ✓ 日本 🚀 \u{0} end"
        let bytes = try roundTrip { $0.writeString(text) }
        #expect(try read(bytes) { (r: inout WireReader) throws(ProtocolError) in try r.readString() } == text)
    }

    @Test func doubleIsBigEndianBinary64() throws {
        #expect(try roundTrip { $0.writeDouble(1.0) } == [0x3F, 0xF0, 0, 0, 0, 0, 0, 0])
        #expect(try read([0xC0, 0x0A, 0, 0, 0, 0, 0, 0]) { (r: inout WireReader) throws(ProtocolError) in try r.readDouble() } == -3.25)
    }

    @Test func writerRefusesWhatAReaderWould() throws {
        var writer = WireWriter(buffer: ByteBuffer(), limits: ProtocolLimits(maxListCount: 2))
        #expect(throws: ProtocolError.countTooLarge(0, limit: 0)) { try writer.writeStrings(["a", "b", "c"]) }
        #expect(throws: ProtocolError.invalidValue("")) { try writer.writeBytes([1, 2], exactly: 32, what: "nonce") }
    }

    @Test func unknownTypeIsRecoverableOthersAreNot() {
        #expect(ProtocolError.unknownMessageType(0x7F).isRecoverable)
        #expect(!ProtocolError.truncated.isRecoverable)
        #expect(!ProtocolError.frameTooLarge(1, limit: 0).isRecoverable)
    }

    @Test func trailingBytesAreIgnoredForExtension() throws {
        // A later revision may append fields; a version-1 reader skips them.
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: [0, 0, 0, 5, 0x10, MessageType.ping.rawValue, 0x07, 0xAA, 0xBB])
        #expect(try decoder.decodeFrame(&buffer) == .ping(Ping(nonce: 7)))
        #expect(buffer.readableBytes == 0)
    }

    @Test func encoderRefusesFramesOverTheLimit() throws {
        var encoder = try FrameEncoder(limits: ProtocolLimits(maxFrameLength: 64), compression: nil)
        var out = ByteBuffer()
        let big = Message.commandOutput(CommandOutput(commandID: "c", stream: .stdout, data: Array(repeating: 1, count: 100)))
        #expect(throws: ProtocolError.frameTooLarge(0, limit: 0)) { try encoder.encode(big, into: &out) }
        #expect(out.readableBytes == 0)
    }

    @Test func decoderWaitsWithoutConsumingShortInput() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: [0, 0, 0, 3, 0x10, MessageType.ping.rawValue])
        #expect(try decoder.decodeFrame(&buffer) == nil)
        #expect(buffer.readerIndex == 0)
        buffer.writeInteger(UInt8(9))
        #expect(try decoder.decodeFrame(&buffer) == .ping(Ping(nonce: 9)))
    }

    @Test func messageOverTheWebSocketLimitIsRefused() throws {
        var decoder = FrameDecoder(limits: ProtocolLimits(maxMessageLength: 8))
        #expect(throws: ProtocolError.frameTooLarge(0, limit: 0)) {
            _ = try decoder.decode(message: ByteBuffer(repeating: 0, count: 9))
        }
    }

    @Test func flagsByteLayout() throws {
        #expect(FrameFlags().byte == 0x10)
        #expect(FrameFlags(deflated: true).byte == 0x11)
        #expect(FrameFlags(deflated: true, dictionaryID: 1).byte == 0x13)
        let parsed = try FrameFlags(byte: 0x13)
        #expect(parsed.deflated && parsed.dictionaryID == 1 && parsed.version == 1)
    }

    @Test func helloSignedBytesFollowTheSpec() {
        let bytes = HelloSignature.signedBytes(nonce: Array(repeating: 7, count: 32), nodeID: "n-1")
        #expect(bytes == Array("dvic-agent-hello-v1".utf8) + [0] + Array(repeating: 7, count: 32) + Array("n-1".utf8))
    }
}
