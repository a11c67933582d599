import BenchCorpus
import DVICProtocol
import Foundation
import NIOCore

// Bytes on the wire for the figures of Benchmarks/README.md, measured against the
// previous JSON design in the same run, plus the CPU price of each compression mode.
// Sizes count what crosses the network per WebSocket message: our frames or the old
// JSON text, plus the WebSocket header an agent (a client, so masked) adds.

func webSocketHeader(_ payload: Int) -> Int {
    // 2 bytes, +2 or +8 for longer lengths, +4 for the client's mask.
    (payload < 126 ? 2 : payload < 65_536 ? 4 : 10) + 4
}

enum Mode: String, CaseIterable {
    case plain, deflate, dictionary
    var compression: FrameEncoder.Compression? {
        switch self {
        case .plain: nil
        case .deflate: .init(threshold: 128, dictionaryID: 0)
        case .dictionary: .init(threshold: 128, dictionaryID: 1)
        }
    }
}

func encoded(_ messages: [Message], _ mode: Mode) -> ByteBuffer {
    var encoder = try! FrameEncoder(compression: mode.compression)
    return try! encoder.encode(messages)
}

let lines = BenchCorpus.lines(count: 10_000)
let rawAverage = Double(lines.reduce(0) { $0 + $1.utf8.count }) / Double(lines.count)
print("# Wire sizes (corpus: \(lines.count) lines, \(String(format: "%.1f", rawAverage)) characters on average)\n")

// The previous design, checked against the figure measured on the prototype.
let line45 = String(repeating: "x", count: 45)
let old45 = BenchCorpus.previousLogMessage(line: line45)
print("Previous design, one 45-character line: \(old45.utf8.count) bytes of JSON (the prototype measured 146).\n")

let oldPerLine = Double(lines.reduce(0) { total, line in
    let size = BenchCorpus.previousLogMessage(line: line).utf8.count
    return total + size + webSocketHeader(size)
}) / Double(lines.count)

print("## Bytes per log line\n")
print("| batch | previous JSON | binary | deflate | deflate + dictionary 1 | best vs previous |")
print("|---|---|---|---|---|---|")
var results: [String: Double] = ["previous_per_line": oldPerLine]
for batchSize in [1, 2, 10, 100, 1000] {
    var perMode: [Mode: Double] = [:]
    for mode in Mode.allCases {
        var total = 0
        var seq: UInt64 = 1
        var encoder = try! FrameEncoder(compression: mode.compression)
        for start in stride(from: 0, to: lines.count, by: batchSize) {
            let chunk = Array(lines[start..<min(lines.count, start + batchSize)])
            let batch = Message.logBatch(LogBatch(streamID: 1, firstSeq: seq, records: BenchCorpus.records(chunk)))
            seq += UInt64(chunk.count)
            var out = ByteBuffer()
            try! encoder.encode(batch, into: &out)
            total += out.readableBytes + webSocketHeader(out.readableBytes)
        }
        perMode[mode] = Double(total) / Double(lines.count)
        results["per_line_batch\(batchSize)_\(mode.rawValue)"] = perMode[mode]
    }
    let best = min(perMode[.plain]!, perMode[.deflate]!, perMode[.dictionary]!)
    print(String(format: "| %d | %.1f | %.1f | %.1f | %.1f | %.1f× smaller |", batchSize, oldPerLine, perMode[.plain]!, perMode[.deflate]!, perMode[.dictionary]!, oldPerLine / best))
}

print("\n## A batch of 100 lines\n")
let hundred = Array(lines.prefix(100))
let rawText = hundred.reduce(0) { $0 + $1.utf8.count }
let hundredBatch = [Message.logBatch(LogBatch(streamID: 1, firstSeq: 1, records: BenchCorpus.records(hundred)))]
for mode in Mode.allCases {
    let size = encoded(hundredBatch, mode).readableBytes
    results["batch100_\(mode.rawValue)_percent_of_text"] = 100 * Double(size) / Double(rawText)
    print(String(format: "- %@: %d bytes for %d bytes of text (%.1f%%)", mode.rawValue, size, rawText, 100 * Double(size) / Double(rawText)))
}

print("\n## A sample of 20 metrics (3600 samples, one a second)\n")
let samples = BenchCorpus.samples(count: 3600)
do {
    var encoder = try! FrameEncoder(compression: nil)
    var out = ByteBuffer()
    try! encoder.encode(.metricDescriptors(MetricDescriptors(descriptors: BenchCorpus.descriptors)), into: &out)
    let descriptorBytes = out.readableBytes
    var sizes: [Int] = []
    for sample in samples {
        out.clear()
        try! encoder.encode(.metricSample(sample), into: &out)
        sizes.append(out.readableBytes)
    }
    let average = Double(sizes.reduce(0, +)) / Double(sizes.count)
    let oldAverage = Double(samples.reduce(0) { total, sample in
        total + BenchCorpus.previousMetricMessages(sample).reduce(0) { $0 + $1.utf8.count + webSocketHeader($1.utf8.count) }
    }) / Double(samples.count)
    results["sample20_frame_bytes_avg"] = average
    results["sample20_frame_bytes_max"] = Double(sizes.max()!)
    results["sample20_previous_bytes"] = oldAverage
    print(String(format: "- binary frame: %.1f bytes on average, %d at most, %d at least (descriptors once per connection: %d bytes)", average, sizes.max()!, sizes.min()!, descriptorBytes))
    print(String(format: "- previous JSON design (6 hardware_state messages): %.1f bytes", oldAverage))
}

print("\n## Bytes per node-hour: 20 metrics/s and 2 log lines/s, one WebSocket message a second\n")
print("| mode | bytes/hour | encode CPU µs/s (median of 9) | decode CPU µs/s (median of 9) |")
print("|---|---|---|---|")
let clock = ContinuousClock()
func micros(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}
// One simulated node-hour, repeated: sizes are exact, CPU is the median of the runs
// (the machine may be shared, and the median is steadier than the mean).
for mode in Mode.allCases {
    var encodeRuns: [Double] = []
    var decodeRuns: [Double] = []
    var total = 0
    for _ in 0..<9 {
        var encoder = try! FrameEncoder(compression: mode.compression)
        var decoder = FrameDecoder()
        total = 0
        var encodeTime = Duration.zero
        var decodeTime = Duration.zero
        var messages: [ByteBuffer] = []
        var out = ByteBuffer()
        try! encoder.encode(.metricDescriptors(MetricDescriptors(descriptors: BenchCorpus.descriptors)), into: &out)
        _ = try! decoder.decode(message: out)
        for second in 0..<3600 {
            let pair = Array(lines[(second * 2) % 9998...(second * 2) % 9998 + 1])
            let batch = Message.logBatch(LogBatch(streamID: 1, firstSeq: UInt64(second * 2 + 1), records: BenchCorpus.records(pair, start: BenchCorpus.t0 + Int64(second) * 1000)))
            var message = ByteBuffer()
            encodeTime += clock.measure {
                try! encoder.encode(.metricSample(samples[second]), into: &message)
                try! encoder.encode(batch, into: &message)
            }
            total += message.readableBytes + webSocketHeader(message.readableBytes)
            messages.append(message)
        }
        for message in messages {
            decodeTime += clock.measure { _ = try! decoder.decode(message: message) }
        }
        encodeRuns.append(micros(encodeTime) / 3600)
        decodeRuns.append(micros(decodeTime) / 3600)
    }
    let encode = encodeRuns.sorted()[encodeRuns.count / 2]
    let decode = decodeRuns.sorted()[decodeRuns.count / 2]
    results["node_hour_bytes_\(mode.rawValue)"] = Double(total)
    results["node_hour_encode_us_per_s_\(mode.rawValue)"] = encode
    results["node_hour_decode_us_per_s_\(mode.rawValue)"] = decode
    print(String(format: "| %@ | %d | %.2f | %.2f |", mode.rawValue, total, encode, decode))
}
let oldHour = 3600 * (results["sample20_previous_bytes"]! + 2 * oldPerLine)
results["node_hour_bytes_previous"] = oldHour
print(String(format: "| previous JSON | %.0f | | |", oldHour))

// Decode throughput without the malloc interposer that ProtocolBenchmarks links (it
// adds a header and a counter to every allocation, and a batch allocates per line).
print("\n## Decoding 100-line batches (uncompressed frames), one core\n")
do {
    var encoder = try! FrameEncoder(compression: nil)
    let frame = try! encoder.encode([.logBatch(LogBatch(streamID: 1, firstSeq: 1, records: BenchCorpus.records(Array(lines.prefix(100)))))])
    var runs: [Double] = []
    for _ in 0..<9 {
        var decoder = FrameDecoder()
        let iterations = 20_000
        let elapsed = clock.measure {
            for _ in 0..<iterations {
                var buffer = frame
                _ = try! decoder.decodeFrame(&buffer)
            }
        }
        let seconds = micros(elapsed) / 1e6
        runs.append(Double(frame.readableBytes) * Double(iterations) / seconds / 1e9)
    }
    runs.sort()
    results["decode_batch100_gb_per_s_median"] = runs[runs.count / 2]
    results["decode_batch100_gb_per_s_best"] = runs.last!
    print(String(format: "- %d-byte frame: %.2f GB/s median of 9 runs, %.2f best", frame.readableBytes, runs[runs.count / 2], runs.last!))
}

if CommandLine.arguments.count > 1 {
    let json = "{" + results.keys.sorted().map { "\"\($0)\": \(String(format: "%.3f", results[$0]!))" }.joined(separator: ", ") + "}\n"
    let path = CommandLine.arguments[1]
    let file = fopen(path, "w")
    fputs(json, file)
    fclose(file)
}
