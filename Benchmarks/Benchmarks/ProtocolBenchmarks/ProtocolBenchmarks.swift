import BenchCorpus
import Benchmark
import DVICCompression
import DVICProtocol
import Foundation
import NIOCore

/// Codec speed: encode and decode of every message type (from the Spec's canonical
/// vectors), frame parsing, log-batch decode throughput, and deflate/inflate.
///
/// Throughput figures are "operations per second"; `Benchmarks/README.md` turns the
/// log-batch one into bytes per second with the frame size printed at startup.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 10,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    // Every canonical vector of the Spec, one encode and one decode benchmark each.
    for (name, messages, bytes) in canonicalVectors() {
        Benchmark("decode/\(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                var decoder = FrameDecoder()
                blackHole(try decoder.decode(message: bytes))
            }
        }
        Benchmark("encode/\(name)") { benchmark in
            var encoder = try FrameEncoder(compression: nil)
            var out = ByteBuffer()
            out.reserveCapacity(bytes.readableBytes * 2)
            for _ in benchmark.scaledIterations {
                out.clear()
                for message in messages where !isMetric(message) { try encoder.encode(message, into: &out) }
                blackHole(out)
            }
        }
    }

    // 100 lines of about 80 characters: the batch an agent sends under load.
    let lines = BenchCorpus.lines(count: 100)
    let batch = Message.logBatch(LogBatch(streamID: 1, firstSeq: 1, records: BenchCorpus.records(lines)))
    var plainEncoder = try! FrameEncoder(compression: nil)
    let batchFrame = try! plainEncoder.encode([batch])
    var deflateEncoder = try! FrameEncoder(compression: .init(threshold: 0))
    let deflatedFrame = try! deflateEncoder.encode([batch])
    var dictionaryEncoder = try! FrameEncoder(compression: .init(threshold: 0, dictionaryID: 1))
    let dictionaryFrame = try! dictionaryEncoder.encode([batch])
    // Frame sizes of this batch are printed by WireSizes (tools/bench), not here: this
    // closure runs once per benchmark process.

    Benchmark(
        "throughput/decode-logBatch-100x80-plain",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal, .cpuTotal], scalingFactor: .kilo)
    ) { benchmark in
        var decoder = FrameDecoder()
        for _ in benchmark.scaledIterations {
            var buffer = batchFrame
            blackHole(try decoder.decodeFrame(&buffer))
        }
    }
    Benchmark("throughput/decode-logBatch-100x80-deflated") { benchmark in
        var decoder = FrameDecoder()
        for _ in benchmark.scaledIterations {
            var buffer = deflatedFrame
            blackHole(try decoder.decodeFrame(&buffer))
        }
    }
    Benchmark("throughput/decode-logBatch-100x80-dictionary") { benchmark in
        var decoder = FrameDecoder()
        for _ in benchmark.scaledIterations {
            var buffer = dictionaryFrame
            blackHole(try decoder.decodeFrame(&buffer))
        }
    }
    Benchmark("throughput/encode-logBatch-100x80-deflated") { benchmark in
        var encoder = try FrameEncoder(compression: .init(threshold: 0))
        var out = ByteBuffer()
        for _ in benchmark.scaledIterations {
            out.clear()
            try encoder.encode(batch, into: &out)
            blackHole(out)
        }
    }
    Benchmark("throughput/encode-logBatch-100x80-dictionary") { benchmark in
        var encoder = try FrameEncoder(compression: .init(threshold: 0, dictionaryID: 1))
        var out = ByteBuffer()
        for _ in benchmark.scaledIterations {
            out.clear()
            try encoder.encode(batch, into: &out)
            blackHole(out)
        }
    }

    // Frame parsing alone: a WebSocket message of 1000 small frames.
    var pingEncoder = try! FrameEncoder(compression: nil)
    let pings = try! pingEncoder.encode((0..<1000).map { Message.ping(Ping(nonce: UInt64($0))) })
    Benchmark("frames/parse-1000-pings") { benchmark in
        for _ in benchmark.scaledIterations {
            var decoder = FrameDecoder()
            blackHole(try decoder.decode(message: pings))
        }
    }

    // Metric samples of 20 values, with the connection's delta state.
    let samples = BenchCorpus.samples(count: 1000)
    Benchmark("metrics/encode-1000-samples-of-20") { benchmark in
        for _ in benchmark.scaledIterations {
            var encoder = try FrameEncoder(compression: nil)
            var out = ByteBuffer()
            try encoder.encode(.metricDescriptors(MetricDescriptors(descriptors: BenchCorpus.descriptors)), into: &out)
            for sample in samples { try encoder.encode(.metricSample(sample), into: &out) }
            blackHole(out)
        }
    }
    var sampleEncoder = try! FrameEncoder(compression: nil)
    let sampleFrames = try! sampleEncoder.encode([.metricDescriptors(MetricDescriptors(descriptors: BenchCorpus.descriptors))] + samples.map { .metricSample($0) })
    Benchmark("metrics/decode-1000-samples-of-20") { benchmark in
        for _ in benchmark.scaledIterations {
            var decoder = FrameDecoder()
            var buffer = sampleFrames
            while let message = try decoder.decodeFrame(&buffer) { blackHole(message) }
        }
    }

    // Raw zlib on the batch's text, with and without the preset dictionary.
    let text = ByteBuffer(string: lines.joined(separator: "\n"))
    for (label, dictionary) in [("plain", nil), ("dictionary", PresetDictionary.bytes(id: 1))] as [(String, [UInt8]?)] {
        Benchmark("zlib/deflate-8KB-\(label)") { benchmark in
            let deflater = try ZlibDeflater(dictionary: dictionary)
            for _ in benchmark.scaledIterations { blackHole(try deflater.compress(text)) }
        }
        let compressed = try! ZlibDeflater(dictionary: dictionary).compress(text)
        Benchmark("zlib/inflate-8KB-\(label)") { benchmark in
            let inflater = try ZlibInflater(dictionaries: PresetDictionary.all)
            for _ in benchmark.scaledIterations {
                blackHole(try inflater.decompress(compressed, expectedDictionary: dictionary, limit: 1 << 20))
            }
        }
    }
}

func isMetric(_ message: Message) -> Bool {
    switch message {
    case .metricDescriptors, .metricSample: true
    default: false
    }
}

/// (name, messages, frame bytes) of every canonical vector in Spec/vectors/frames.
func canonicalVectors() -> [(String, [Message], ByteBuffer)] {
    struct Vector: Decodable {
        var name: String
        var hex: String
        var canonical: Bool
        var messages: [Message]
    }
    let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Spec/vectors/frames")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return files.sorted().compactMap { file in
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(file)),
            let vector = try? JSONDecoder().decode(Vector.self, from: data), vector.canonical
        else { return nil }
        var bytes: [UInt8] = []
        var index = vector.hex.startIndex
        while index < vector.hex.endIndex {
            let next = vector.hex.index(index, offsetBy: 2)
            bytes.append(UInt8(vector.hex[index..<next], radix: 16)!)
            index = next
        }
        return (String(vector.name.dropFirst("valid-".count)), vector.messages, ByteBuffer(bytes: bytes))
    }
}
