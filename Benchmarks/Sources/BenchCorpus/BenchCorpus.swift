import DVICProtocol

/// Deterministic, realistic inputs: demo log lines of about 80 characters (each
/// carrying three or four measured numbers, the hard part to compress) and the 20
/// metrics an agent reports each second, walking the way real machines do.
///
/// The line templates are written apart from `Spec/dictionaries/1.txt` (they share
/// words real logs share, not whole phrases), so the dictionary is not measured on
/// its own text.
public enum BenchCorpus {
    public static let t0: Int64 = 1_795_867_200_000

    /// A small xorshift generator: the same numbers on every run and machine.
    public struct Random {
        var state: UInt64
        public init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
        public mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        public mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }
        public mutating func double(_ range: ClosedRange<Double>) -> Double {
            range.lowerBound + (range.upperBound - range.lowerBound) * Double(next() % 1_000_000) / 1_000_000
        }
        public mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scaled = Int((value * Double([1, 10, 100, 1000][digits])).rounded())
        let negative = scaled < 0
        scaled = abs(scaled)
        let unit = [1, 10, 100, 1000][digits]
        let whole = scaled / unit
        var fraction = String(scaled % unit)
        while fraction.count < digits { fraction = "0" + fraction }
        return (negative ? "-" : "") + String(whole) + (digits > 0 ? "." + fraction : "")
    }

    /// Lines of a mixed lab: vision demos, sensors, robots, web front-ends.
    public static func lines(count: Int, seed: UInt64 = 42) -> [String] {
        var random = Random(seed: seed)
        var frame = 10_000
        var lines: [String] = []
        lines.reserveCapacity(count)
        let rooms = ["atelier", "hall-b", "robotics", "fablab"]
        let modes = ["attract", "interactive", "calibration", "idle"]
        for _ in 0..<count {
            frame += random.int(1...3)
            let line: String
            switch random.int(0...9) {
            case 0, 1, 2:
                line = "frame \(frame) rendered and encoded: \(fixed(random.double(8...40), 1)) ms total, pipeline fps \(fixed(random.double(20...31), 1)), backlog \(random.int(0...6)) frames"
            case 3:
                line = "person tracker update: \(random.int(0...7)) people in view, nearest at \(fixed(random.double(0.4...4.5), 2)) m, gesture=\(random.pick(["wave", "none", "point", "swipe"]))"
            case 4:
                line = "environment probe #\(random.int(1...12)) reports \(fixed(random.double(18...31), 1)) degC, relative humidity \(fixed(random.double(25...60), 1))%, co2 \(random.int(400...1400)) ppm"
            case 5:
                line = "pushed telemetry for \(random.pick(rooms))/kiosk-\(random.int(1...30)) (\(random.int(120...900)) bytes), broker acknowledged after \(random.int(2...80)) ms"
            case 6:
                line = "object detection pass on batch \(random.int(1...99_999)): \(fixed(random.double(11...60), 1)) ms, vram \(random.int(900...3900)) MiB in use, gpu util \(random.int(20...99))%"
            case 7:
                line = "visitor touched interactive panel \(random.int(1...6)) at (\(random.int(0...1919)), \(random.int(0...1079))); entering \(random.pick(modes)) mode now"
            case 8:
                line = "robot arm joint \(random.int(1...6)) reached target \(fixed(random.double(-180...180), 2)) deg in \(random.int(80...900)) ms, measured torque \(fixed(random.double(0...4), 2)) Nm"
            default:
                line = "served GET /scene/\(random.int(1...40))/state with status 200 (\(random.int(200...9000)) B) in \(fixed(random.double(0.3...25), 2)) ms to kiosk browser"
            }
            lines.append(line)
        }
        return lines
    }

    public static func records(_ lines: [String], start: Int64 = t0) -> [LogRecord] {
        var random = Random(seed: 7)
        var time = start
        return lines.map { line in
            time += Int64(random.int(0...40))
            return LogRecord(timestamp: time, severity: random.int(0...9) == 0 ? .warn : .info, text: line)
        }
    }

    /// The 20 metrics of an agent with the scales it uses.
    public static let descriptors: [MetricDescriptor] = {
        let spec: [(String, String, Int64, MetricKind)] = [
            ("cpu.total", "%", 1, .gauge), ("cpu.core0", "%", 1, .gauge), ("cpu.core1", "%", 1, .gauge),
            ("cpu.core2", "%", 1, .gauge), ("cpu.core3", "%", 1, .gauge),
            ("load.1", "", 2, .gauge), ("load.5", "", 2, .gauge), ("load.15", "", 2, .gauge),
            ("mem.used", "B", -3, .gauge), ("mem.available", "B", -3, .gauge), ("swap.used", "B", -3, .gauge),
            ("disk.root.used_pct", "%", 2, .gauge), ("disk.io.read", "B/s", -2, .gauge), ("disk.io.write", "B/s", -2, .gauge),
            ("net.eth0.rx", "B/s", -2, .gauge), ("net.eth0.tx", "B/s", -2, .gauge),
            ("temp.cpu", "C", 1, .gauge), ("uptime", "s", 0, .counter), ("procs", "", 0, .gauge), ("gpu.util", "%", 0, .gauge),
        ]
        return spec.enumerated().map { MetricDescriptor(id: UInt32($0.offset), name: $0.element.0, unit: $0.element.1, scale: $0.element.2, kind: $0.element.3) }
    }()

    /// One sample a second, each metric wandering from its last value.
    public static func samples(count: Int, seed: UInt64 = 3) -> [MetricSample] {
        var random = Random(seed: seed)
        var values: [Double] = [22, 25, 18, 30, 15, 0.8, 0.7, 0.6, 1.6e9, 2.2e9, 1.2e7, 41.5, 12_000, 55_000, 24_000, 9_000, 52, 86_400, 212, 35]
        var samples: [MetricSample] = []
        for index in 0..<count {
            for m in 0..<5 { values[m] = min(100, max(0, values[m] + random.double(-4...4))) }
            for m in 5..<8 { values[m] = max(0, values[m] + random.double(-0.05...0.05)) }
            values[8] += random.double(-400_000...400_000)
            values[9] -= random.double(-400_000...400_000)
            if random.int(0...9) == 0 { values[10] += random.double(-40_000...40_000) }
            if random.int(0...29) == 0 { values[11] += 0.01 }
            values[12] = random.int(0...3) == 0 ? random.double(0...200_000) : 0
            values[13] = random.double(0...120_000)
            values[14] = random.double(500...60_000)
            values[15] = random.double(500...30_000)
            values[16] = min(90, max(35, values[16] + random.double(-0.4...0.4)))
            values[17] += 1
            if random.int(0...4) == 0 { values[18] += Double(random.int(-2...2)) }
            values[19] = min(100, max(0, values[19] + random.double(-6...6)))
            samples.append(MetricSample(
                timestamp: t0 + Int64(index) * 1000,
                values: values.enumerated().map { MetricValue(id: UInt32($0.offset), value: $0.element) }))
        }
        return samples
    }

    /// Base64 without Foundation, for the previous design's envelopes.
    public static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], table[Int(n & 63)]]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], 61]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The previous design's message for one log line: every field base64 of its JSON.
    public static func previousLogMessage(line: String, kind: String = "demo", name: String = "camera-demo") -> String {
        func field(_ text: String) -> String { base64(Array(jsonString(text).utf8)) }
        return "{\"type\":\"log_entry\",\"data\":{\"kind\":\"\(field(kind))\",\"name\":\"\(field(name))\",\"log\":\"\(field(line))\"}}"
    }

    /// The previous design's hardware-state messages for one sample: one per kind of
    /// figure (cpu, memory, disk, network, temperature, system), each a base64 JSON object.
    public static func previousMetricMessages(_ sample: MetricSample) -> [String] {
        let groups: [(String, ClosedRange<Int>)] = [
            ("cpu_usage", 0...7), ("memory_usage", 8...10), ("disk_usage", 11...13), ("network_usage", 14...15),
            ("temperature", 16...16), ("system", 17...19),
        ]
        return groups.map { kind, range in
            let object = "{" + range.map { index in
                "\"\(descriptors[index].name)\": \(sample.values[index].value)"
            }.joined(separator: ", ") + "}"
            return "{\"type\":\"hardware_state\",\"data\":{\"kind\":\"\(kind)\",\"data\":\"\(base64(Array(object.utf8)))\"}}"
        }
    }
}
