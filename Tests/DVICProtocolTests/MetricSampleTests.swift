@testable import DVICProtocol
import NIOCore
import Testing

@Suite struct MetricSampleTests {
    static let descriptors = Message.metricDescriptors(MetricDescriptors(descriptors: (0..<20).map {
        MetricDescriptor(id: UInt32($0), name: "m\($0)", unit: "", scale: 1, kind: .gauge)
    }))

    @Test func quantizeRoundsHalfAwayFromZero() {
        #expect(MetricCodecState.quantize(12.25, scale: 1) == 123)
        #expect(MetricCodecState.quantize(-12.25, scale: 1) == -123)
        #expect(MetricCodecState.quantize(812_345_678, scale: -3) == 812_346)
        #expect(MetricCodecState.quantize(.greatestFiniteMagnitude, scale: 9) == .max)
        #expect(MetricCodecState.dequantize(812_346, scale: -3) == 812_346_000)
    }

    @Test func samplesDeltaCodeAcrossFrames() throws {
        var encoder = try FrameEncoder(compression: nil)
        var decoder = FrameDecoder()
        var frames = ByteBuffer()
        try encoder.encode(Self.descriptors, into: &frames)
        var expected: [Message] = [Self.descriptors]
        for second in 0..<5 {
            let sample = Message.metricSample(MetricSample(
                timestamp: 1_795_867_200_000 + Int64(second) * 1000,
                values: (0..<20).map { MetricValue(id: UInt32($0), value: Double($0 * 10 + second) / 2) }))
            try encoder.encode(sample, into: &frames)
            expected.append(sample)
        }
        #expect(try decoder.decode(message: frames) == expected)
    }

    @Test func nonFiniteValuesAreLeftOutAndRunsSplit() throws {
        var encoder = try FrameEncoder(compression: nil)
        var decoder = FrameDecoder()
        let sample = MetricSample(timestamp: 5, values: [
            MetricValue(id: 0, value: 1), MetricValue(id: 1, value: .nan), MetricValue(id: 2, value: 3),
            MetricValue(id: 3, value: .infinity),
        ])
        let bytes = try encoder.encode([Self.descriptors, .metricSample(sample)])
        let decoded = try decoder.decode(message: bytes)
        #expect(decoded.last == .metricSample(MetricSample(timestamp: 5, values: [
            MetricValue(id: 0, value: 1), MetricValue(id: 2, value: 3),
        ])))
    }

    @Test func redescribingResetsTheDeltaBase() throws {
        var encoder = try FrameEncoder(compression: nil)
        var decoder = FrameDecoder()
        let sample = Message.metricSample(MetricSample(timestamp: 1, values: [MetricValue(id: 0, value: 50)]))
        let bytes = try encoder.encode([Self.descriptors, sample, Self.descriptors, sample])
        #expect(try decoder.decode(message: bytes) == [Self.descriptors, sample, Self.descriptors, sample])
    }

    @Test func encoderRefusesUndescribedIDs() throws {
        var encoder = try FrameEncoder(compression: nil)
        var out = ByteBuffer()
        #expect(throws: ProtocolError.unknownMetric(0)) {
            try encoder.encode(.metricSample(MetricSample(timestamp: 1, values: [MetricValue(id: 3, value: 1)])), into: &out)
        }
    }

    @Test func hostileDeltasWrapInsteadOfTrapping() throws {
        var decoder = FrameDecoder()
        var encoder = try FrameEncoder(compression: nil)
        var bytes = try encoder.encode([Self.descriptors])
        // Two samples of id 0 each adding Int64.max: the sum wraps modulo 2^64.
        for _ in 0..<2 {
            var payload = WireWriter(buffer: ByteBuffer())
            payload.writeSigned(0)
            payload.writeVarint(UInt64(1))
            payload.writeVarint(UInt64(0))
            payload.writeVarint(UInt64(1))
            payload.writeSigned(.max)
            bytes.writeInteger(UInt32(2 + payload.buffer.readableBytes))
            bytes.writeInteger(UInt8(0x10))
            bytes.writeInteger(MessageType.metricSample.rawValue)
            bytes.writeImmutableBuffer(payload.buffer)
        }
        let decoded = try decoder.decode(message: bytes)
        #expect(decoded.count == 3)
    }
}
