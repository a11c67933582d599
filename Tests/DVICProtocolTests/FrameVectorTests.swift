import DVICProtocol
import NIOCore
import Testing

/// Holds the codec to `Spec/vectors/frames/`.
@Suite struct FrameVectorTests {
    static let vectors: [SpecVectors.FrameVector] = (try? SpecVectors.frames()) ?? []

    @Test func vectorsArePresent() throws {
        let vectors = try SpecVectors.frames()
        #expect(vectors.count > 60)
    }

    /// Every message type has an uncompressed and a compressed vector.
    @Test func everyMessageTypeHasVectors() throws {
        let vectors = try SpecVectors.frames().filter { $0.error == nil }
        for type in MessageType.allCases {
            let plain = vectors.contains { !$0.compressed && $0.messages.contains { $0.type == type } }
            let deflated = vectors.contains { $0.compressed && $0.messages.contains { $0.type == type } }
            #expect(plain, "no uncompressed vector for \(type.name)")
            #expect(deflated, "no compressed vector for \(type.name)")
        }
    }

    /// The committed vectors are exactly what the catalog and the hostile cases give.
    @Test func vectorsMatchTheCatalog() throws {
        let onDisk = try SpecVectors.frames().map(\.name).sorted()
        let generated = try VectorGenerator.allVectors().map(\.name).sorted()
        #expect(onDisk == generated)
    }

    @Test(arguments: vectors)
    func decodeAsWebSocketMessage(_ vector: SpecVectors.FrameVector) throws {
        var decoder = FrameDecoder()
        var recovered: [ProtocolError] = []
        let input = ByteBuffer(bytes: SpecVectors.bytes(hex: vector.hex))
        do {
            let messages = try decoder.decode(message: input) { recovered.append($0) }
            #expect(messages == vector.messages)
            #expect(recovered.first?.name == vector.error, "\(vector.name)")
        } catch {
            #expect(error.name == vector.error, "\(vector.name): \(error)")
        }
    }

    /// The same bytes through the stream decoder, as a NIO pipeline would feed them.
    @Test(arguments: vectors)
    func decodeAsStream(_ vector: SpecVectors.FrameVector) throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: SpecVectors.bytes(hex: vector.hex))
        var messages: [Message] = []
        var firstError: ProtocolError?
        while true {
            do {
                guard let message = try decoder.decodeFrame(&buffer) else { break }
                messages.append(message)
            } catch {
                firstError = firstError ?? error
                if !error.isRecoverable { break }
            }
        }
        #expect(messages == vector.messages, "\(vector.name)")
        if vector.error == "incomplete_message" {
            // A stream just waits for the rest of a split frame.
            #expect(firstError == nil)
            #expect(buffer.readableBytes > 0)
        } else {
            #expect(firstError?.name == vector.error, "\(vector.name)")
        }
    }

    @Test(arguments: vectors.filter(\.canonical))
    func encodeCanonical(_ vector: SpecVectors.FrameVector) throws {
        var encoder = try FrameEncoder(compression: nil)
        let bytes = try encoder.encode(vector.messages)
        #expect(SpecVectors.hex(bytes.readableBytesView) == vector.hex)
    }

    /// A compressing encoder's output decodes to the same messages as the vector.
    @Test(arguments: vectors.filter { $0.error == nil })
    func reencodeCompressed(_ vector: SpecVectors.FrameVector) throws {
        for dictionaryID: UInt8 in [0, 1] {
            var encoder = try FrameEncoder(compression: .init(threshold: 0, dictionaryID: dictionaryID))
            let bytes = try encoder.encode(vector.messages)
            var decoder = FrameDecoder()
            #expect(try decoder.decode(message: bytes) == vector.messages)
        }
    }
}

extension SpecVectors.FrameVector: CustomTestStringConvertible {
    var testDescription: String { name }
}
