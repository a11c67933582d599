import DVICCompression
import DVICProtocol
import Foundation
import NIOCore
import Testing

/// Writes `Spec/vectors/frames/` from `VectorCatalog` and the hostile cases below.
///
/// Runs only with `DVIC_WRITE_VECTORS=1` (`tools/gen-vectors`): vectors are written
/// once, reviewed against the Spec, and committed; the other tests then hold the
/// code to them.
@Suite struct VectorGenerator {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["DVIC_WRITE_VECTORS"] == "1"))
    func writeVectors() throws {
        let folder = SpecVectors.folder("frames")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for vector in try Self.allVectors() {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try (encoder.encode(vector) + Data("\n".utf8)).write(to: folder.appendingPathComponent(vector.name + ".json"))
        }
    }

    static func allVectors() throws -> [SpecVectors.FrameVector] {
        var vectors: [SpecVectors.FrameVector] = []
        for (name, message) in VectorCatalog.single {
            var encoder = try FrameEncoder(compression: nil)
            let plain = try encoder.encode([message])
            vectors.append(.init(
                name: "valid-\(name)", description: "One \(name) message, payload not compressed.",
                hex: SpecVectors.hex(plain.readableBytesView), compressed: false, canonical: true, messages: [message], error: nil))
            vectors.append(.init(
                name: "valid-\(name)-deflated", description: "One \(name) message, payload deflated (zlib, no dictionary).",
                hex: SpecVectors.hex(try deflatedFrame(plain, dictionaryID: 0)), compressed: true, canonical: false,
                messages: [message], error: nil))
        }
        var encoder = try FrameEncoder(compression: nil)
        let sequence = try encoder.encode(VectorCatalog.metricSequence)
        vectors.append(.init(
            name: "valid-metric-sequence",
            description: "metricDescriptors then two metricSample frames in one WebSocket message; the second sample is delta-coded against the first.",
            hex: SpecVectors.hex(sequence.readableBytesView), compressed: false, canonical: true,
            messages: VectorCatalog.metricSequence, error: nil))
        var deflatedSequence: [UInt8] = []
        var rest = sequence
        while rest.readableBytes > 0 {
            let length = Int(rest.getInteger(at: rest.readerIndex, as: UInt32.self)!)
            let frame = rest.readSlice(length: 4 + length)!
            deflatedSequence += try deflatedFrame(frame, dictionaryID: 1)
        }
        vectors.append(.init(
            name: "valid-metric-sequence-dictionary",
            description: "The metric sequence with every payload deflated with preset dictionary 1.",
            hex: SpecVectors.hex(deflatedSequence), compressed: true, canonical: false,
            messages: VectorCatalog.metricSequence, error: nil))
        var batchEncoder = try FrameEncoder(compression: nil)
        let batch = try batchEncoder.encode([VectorCatalog.single.first { $0.name == "logBatch" }!.message])
        vectors.append(.init(
            name: "valid-logBatch-dictionary", description: "A logBatch deflated with preset dictionary 1.",
            hex: SpecVectors.hex(try deflatedFrame(batch, dictionaryID: 1)), compressed: true, canonical: false,
            messages: [VectorCatalog.single.first { $0.name == "logBatch" }!.message], error: nil))
        var twoEncoder = try FrameEncoder(compression: nil)
        let two = try twoEncoder.encode([.ping(Ping(nonce: 1)), .pong(Pong(nonce: 1))])
        vectors.append(.init(
            name: "valid-two-frames", description: "Two frames in one WebSocket message.",
            hex: SpecVectors.hex(two.readableBytesView), compressed: false, canonical: true,
            messages: [.ping(Ping(nonce: 1)), .pong(Pong(nonce: 1))], error: nil))
        vectors += try invalidVectors()
        return vectors
    }

    /// Re-frames one uncompressed frame with its payload deflated.
    static func deflatedFrame(_ frame: ByteBuffer, dictionaryID: UInt8) throws -> [UInt8] {
        let bytes = Array(frame.readableBytesView)
        let payload = ByteBuffer(bytes: bytes[6...])
        let deflater = try ZlibDeflater(dictionary: dictionaryID == 0 ? nil : PresetDictionary.bytes(id: dictionaryID))
        let compressed = try deflater.compress(payload)
        var out = ByteBuffer()
        out.writeInteger(UInt32(2 + compressed.readableBytes))
        out.writeInteger(FrameFlags(deflated: true, dictionaryID: dictionaryID).byte)
        out.writeInteger(bytes[5])
        out.writeImmutableBuffer(compressed)
        return Array(out.readableBytesView)
    }

    static func frame(flags: UInt8 = 0x10, type: UInt8, payload: [UInt8]) -> [UInt8] {
        let length = UInt32(2 + payload.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), flags, type] + payload
    }

    static func invalid(_ name: String, _ description: String, _ bytes: [UInt8], _ error: String, before: [Message] = []) -> SpecVectors.FrameVector {
        .init(name: "invalid-\(name)", description: description, hex: SpecVectors.hex(bytes), compressed: false,
              canonical: false, messages: before, error: error)
    }

    static func invalidVectors() throws -> [SpecVectors.FrameVector] {
        let ping = MessageType.ping.rawValue
        let bomb: [UInt8] = try {
            let zeros = ByteBuffer(repeating: 0, count: 5 << 20)
            let compressed = try ZlibDeflater(level: 9).compress(zeros)
            return frame(flags: 0x11, type: MessageType.fileChunk.rawValue, payload: Array(compressed.readableBytesView))
        }()
        let goodPing = frame(type: ping, payload: [0x05])
        return [
            invalid("truncated-header", "Three bytes: a WebSocket message must hold whole frames.", [0, 0, 0], "incomplete_message"),
            invalid("split-frame", "A whole ping then the first half of another: frames are never split across messages.",
                    goodPing + Array(goodPing.prefix(5)), "incomplete_message", before: [.ping(Ping(nonce: 5))]),
            invalid("frame-too-short", "Length 1 cannot hold the flags and type bytes.", [0, 0, 0, 1, 0x10], "frame_too_short"),
            invalid("frame-too-large", "Length 1 MiB + 3 is over the 1 MiB limit; refused before the rest arrives.",
                    [0x00, 0x10, 0x00, 0x03, 0x10, ping], "frame_too_large"),
            invalid("length-huge", "Length 0xFFFFFFFF: refused from the length field alone.", [0xFF, 0xFF, 0xFF, 0xFF, 0x10, ping], "frame_too_large"),
            invalid("unsupported-version", "Version 2 in the flags byte.", frame(flags: 0x20, type: ping, payload: [1]), "unsupported_version"),
            invalid("version-zero", "Version 0 in the flags byte.", frame(flags: 0x00, type: ping, payload: [1]), "unsupported_version"),
            invalid("reserved-bit", "Reserved bit 3 set.", frame(flags: 0x18, type: ping, payload: [1]), "reserved_flags"),
            invalid("dictionary-without-deflate", "A dictionary id on a payload that is not deflated.", frame(flags: 0x12, type: ping, payload: [1]), "reserved_flags"),
            invalid("unknown-dictionary", "Deflated with dictionary id 3, which no peer defines.", frame(flags: 0x17, type: ping, payload: [0x78, 0x9C]), "unknown_dictionary"),
            invalid("inflate-garbage", "Deflate flag over bytes that are not a zlib stream.", frame(flags: 0x11, type: ping, payload: [1, 2, 3, 4]), "inflate_failed"),
            invalid("inflate-truncated", "A zlib stream cut short.", frame(flags: 0x11, type: ping, payload: [0x78, 0x9C, 0x63]), "inflate_failed"),
            invalid("inflate-bomb", "About 5 KiB that inflate to 5 MiB, over the 4 MiB payload limit; stopped at the limit.", bomb, "payload_too_large"),
            invalid("unknown-type", "Type 0x7F is not defined; the frame is consumed and the stream stays in step (recoverable), so the following ping is still decoded.",
                    frame(type: 0x7F, payload: [1, 2, 3]) + goodPing, "unknown_message_type", before: [.ping(Ping(nonce: 5))]),
            invalid("varint-too-long", "An 11-byte varint.", frame(type: ping, payload: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), "bad_varint"),
            invalid("varint-overflow", "A 10-byte varint whose last byte sets bits above 64.", frame(type: ping, payload: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]), "bad_varint"),
            invalid("varint-not-minimal", "0x80 0x00 encodes 0 in two bytes; only the shortest form is valid.", frame(type: ping, payload: [0x80, 0x00]), "bad_varint"),
            invalid("varint-truncated", "A varint whose continuation bit runs off the payload.", frame(type: ping, payload: [0x80]), "truncated"),
            invalid("empty-payload", "A ping without its nonce.", frame(type: ping, payload: []), "truncated"),
            invalid("bad-utf8", "A streamAuth token with byte 0xFF.", frame(type: MessageType.streamAuth.rawValue, payload: [2, 0x41, 0xFF]), "invalid_utf8"),
            invalid("overlong-utf8", "A string with an overlong UTF-8 encoding of '/'.", frame(type: MessageType.streamAuth.rawValue, payload: [2, 0xC0, 0xAF]), "invalid_utf8"),
            invalid("string-past-end", "A string length of 100 with 2 bytes left.", frame(type: MessageType.streamAuth.rawValue, payload: [100, 0x41, 0x42]), "truncated"),
            invalid("count-past-end", "A list count of 1000 with 1 byte left: refused before any allocation.",
                    frame(type: MessageType.inventory.rawValue, payload: [0xE8, 0x07, 0x00]), "count_too_large"),
            invalid("count-over-limit", "A batch count of 20000 (over the 10000 limit).",
                    frame(type: MessageType.logBatch.rawValue, payload: [1, 1, 0xA0, 0x9C, 0x01] + Array(repeating: 0, count: 30)), "count_too_large"),
            invalid("bad-enum", "A logBatch record with severity 9.", frame(type: MessageType.logBatch.rawValue, payload: [1, 1, 1, 0, 9, 0]), "invalid_value"),
            invalid("bad-bool", "An error message whose fatal byte is 2.", frame(type: MessageType.error.rawValue, payload: [0, 2, 0]), "invalid_value"),
            invalid("short-nonce", "A challenge whose nonce has 4 bytes instead of 32.",
                    frame(type: MessageType.challenge.rawValue, payload: [1, 1, 4, 1, 2, 3, 4, 0, 0]), "invalid_value"),
            invalid("undescribed-metric", "A metricSample for id 7, never described on this connection.",
                    frame(type: MessageType.metricSample.rawValue, payload: [0, 1, 7, 1, 2]), "unknown_metric"),
            invalid("metric-id-over-limit", "A descriptor with id 5000 (ids go to 4095).",
                    frame(type: MessageType.metricDescriptors.rawValue, payload: [1, 0x88, 0x27, 1, 0x61, 0, 0, 0]), "invalid_value"),
            invalid("metric-scale-out-of-range", "A descriptor with scale 10.",
                    frame(type: MessageType.metricDescriptors.rawValue, payload: [1, 1, 1, 0x61, 0, 20, 0]), "invalid_value"),
            invalid("batch-seq-overflow", "A batch whose sequence numbers would pass 2^64.",
                    frame(type: MessageType.logBatch.rawValue, payload: [1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 2, 0, 2, 0, 0, 2, 0]), "invalid_value"),
        ]
    }
}
