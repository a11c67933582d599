import DVICCompression
import DVICProtocol
import NIOCore
import Testing

@Suite struct CompressionTests {
    @Test func roundTripWithAndWithoutDictionary() throws {
        let text = ByteBuffer(string: String(repeating: "frame 1234 processed in 12.3 ms fps=29.8\n", count: 50))
        for dictionary in [nil, PresetDictionary.bytes(id: 1)] {
            let deflated = try ZlibDeflater(dictionary: dictionary).compress(text)
            #expect(deflated.readableBytes < text.readableBytes / 4)
            let inflated = try ZlibInflater(dictionaries: PresetDictionary.all)
                .decompress(deflated, expectedDictionary: dictionary, limit: 1 << 20)
            #expect(inflated == text)
        }
    }

    @Test func deflaterIsReusable() throws {
        let deflater = try ZlibDeflater(dictionary: PresetDictionary.bytes(id: 1))
        let inflater = try ZlibInflater(dictionaries: PresetDictionary.all)
        for index in 0..<20 {
            let text = ByteBuffer(string: "line \(index) " + String(repeating: "x", count: index * 10))
            let deflated = try deflater.compress(text)
            #expect(try inflater.decompress(deflated, expectedDictionary: PresetDictionary.bytes(id: 1), limit: 4096) == text)
        }
    }

    @Test func bombStopsAtTheLimit() throws {
        let zeros = ByteBuffer(repeating: 0, count: 8 << 20)
        let deflated = try ZlibDeflater(level: 9).compress(zeros)
        #expect(deflated.readableBytes < 16_384)
        #expect(throws: CompressionError.outputTooLarge(limit: 0)) {
            _ = try ZlibInflater().decompress(deflated, limit: 1 << 20)
        }
    }

    @Test func exactLimitIsAllowed() throws {
        let data = ByteBuffer(repeating: 7, count: 4096)
        let deflated = try ZlibDeflater().compress(data)
        #expect(try ZlibInflater().decompress(deflated, limit: 4096) == data)
        #expect(throws: CompressionError.outputTooLarge(limit: 0)) {
            _ = try ZlibInflater().decompress(deflated, limit: 4095)
        }
    }

    @Test func dictionaryMustMatchTheFlags() throws {
        let text = ByteBuffer(string: "camera ready fps=30")
        let withDictionary = try ZlibDeflater(dictionary: PresetDictionary.bytes(id: 1)).compress(text)
        let plain = try ZlibDeflater().compress(text)
        let inflater = try ZlibInflater(dictionaries: PresetDictionary.all)
        #expect(throws: CompressionError.dictionaryMissing) { _ = try inflater.decompress(withDictionary, limit: 4096) }
        #expect(throws: CompressionError.dictionaryMismatch) {
            _ = try inflater.decompress(plain, expectedDictionary: PresetDictionary.bytes(id: 1), limit: 4096)
        }
        #expect(throws: CompressionError.dictionaryMismatch) {
            _ = try inflater.decompress(withDictionary, expectedDictionary: Array("other".utf8), limit: 4096)
        }
    }

    @Test func truncatedAndTrailingDataAreErrors() throws {
        let deflated = Array(try ZlibDeflater().compress(ByteBuffer(string: String(repeating: "abc", count: 100))).readableBytesView)
        let inflater = try ZlibInflater()
        for cut in [1, 2, deflated.count / 2, deflated.count - 1] {
            #expect(throws: CompressionError.self) {
                _ = try inflater.decompress(ByteBuffer(bytes: deflated.prefix(cut)), limit: 4096)
            }
        }
        #expect(throws: CompressionError.trailingData) {
            _ = try inflater.decompress(ByteBuffer(bytes: deflated + [0]), limit: 4096)
        }
        // Still usable after failures.
        #expect(try inflater.decompress(ByteBuffer(bytes: deflated), limit: 4096).readableBytes == 300)
    }

    @Test func encoderKeepsRawPayloadWhenDeflateDoesNotHelp() throws {
        var encoder = try FrameEncoder(compression: .init(threshold: 0))
        var out = ByteBuffer()
        try encoder.encode(.ping(Ping(nonce: 1)), into: &out)
        #expect(out.getInteger(at: 4, as: UInt8.self) == 0x10)
        out.clear()
        try encoder.encode(.commandOutput(CommandOutput(commandID: "c", stream: .stdout, data: Array(repeating: 65, count: 1000))), into: &out)
        #expect(out.getInteger(at: 4, as: UInt8.self) == 0x11)
        #expect(out.readableBytes < 100)
    }

    /// The dictionary compiled into the codec is byte for byte the Spec's file.
    @Test func dictionaryMatchesTheSpecFile() throws {
        let url = SpecVectors.root.appendingPathComponent("Spec/dictionaries/1.txt")
        let bytes = try [UInt8](Data(contentsOf: url))
        #expect(PresetDictionary.bytes(id: 1) == bytes)
        #expect(PresetDictionary.knownIDs == [1])
    }
}

import Foundation

/// Many frames in one WebSocket message, some deflated and some not, as a stream
/// connection writes a viewer's gathered updates.
@Test func manyFramesInOneMessageMixDeflatedAndPlain() throws {
    var encoder = try FrameEncoder(compression: .init(threshold: 512))
    let messages: [Message] = (0..<300).map { index in
        let count = index % 7 == 0 ? 40 : 1
        return .logEntries(LogEntries(nodeID: "n-\(index % 20)", streamKey: "demo:flood", entries: (0..<count).map {
            StreamLogEntry(seq: UInt64(index * 100 + $0), timestamp: 1_700_000_000_000 + Int64($0), severity: .info, text: "line \(index) \($0) camera frame ok")
        }))
    }
    let buffer = try encoder.encode(messages)
    var decoder = FrameDecoder()
    #expect(try decoder.decode(message: buffer) == messages)
}
