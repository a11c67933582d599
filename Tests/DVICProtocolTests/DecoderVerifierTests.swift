import DVICProtocol
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

/// NIO's `ByteToMessageDecoderVerifier` feeds the frames byte by byte, all at once,
/// and in random splits, and checks the decoder never loses or invents a message.
@Suite struct DecoderVerifierTests {
    @Test func verifierOverEveryStatelessVector() throws {
        let pairs: [(ByteBuffer, [Message])] = try SpecVectors.frames()
            .filter { $0.error == nil && !$0.messages.contains(where: Self.isMetric) }
            .map { (ByteBuffer(bytes: SpecVectors.bytes(hex: $0.hex)), $0.messages) }
        #expect(pairs.count > 60)
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
    }

    /// Metric frames carry connection state, so the verifier gets them as one ordered input.
    @Test func verifierOverMetricSequence() throws {
        let vector = try #require(try SpecVectors.frames().first { $0.name == "valid-metric-sequence" })
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(ByteBuffer(bytes: SpecVectors.bytes(hex: vector.hex)), vector.messages)]
        ) { FrameDecoder() }
    }

    /// In a NIO pipeline a bad frame becomes an error in the channel, never a crash.
    @Test func pipelineReportsHostileFrame() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var input = ByteBuffer()
        input.writeBytes([0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0x38])
        #expect(throws: ProtocolError.frameTooLarge(0, limit: 0)) {
            try channel.writeInbound(input)
        }
        _ = try? channel.finish()
    }

    static func isMetric(_ message: Message) -> Bool {
        switch message {
        case .metricSample, .metricDescriptors: true
        default: false
        }
    }
}
