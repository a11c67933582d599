/// What one direction of a connection remembers about metrics: each described id's
/// scale and the previous quantized value that the next sample is a delta against.
///
/// Kept in flat arrays indexed by id (ids are small, at most `maxMetricID`), because a
/// sample is decoded for every node every second and dictionary lookups would show.
public struct MetricCodecState: Sendable, Hashable {
    /// `Int8.min` marks an id that was never described.
    private var scales: [Int8] = []
    private var previous: [Int64] = []

    public init() {}

    static let undescribed = Int8.min
    static let scaleRange: ClosedRange<Int64> = -9...9

    /// Records a descriptor; (re)describing resets the delta base to 0.
    mutating func describe(id: UInt32, scale: Int8) {
        let index = Int(id)
        if index >= scales.count {
            scales.append(contentsOf: repeatElement(Self.undescribed, count: index + 1 - scales.count))
            previous.append(contentsOf: repeatElement(0, count: index + 1 - previous.count))
        }
        scales[index] = scale
        previous[index] = 0
    }

    func scale(of id: UInt32) -> Int8? {
        let index = Int(id)
        guard index < scales.count, scales[index] != Self.undescribed else { return nil }
        return scales[index]
    }

    func previousValue(of id: UInt32) -> Int64 { previous[Int(id)] }

    mutating func setPrevious(_ value: Int64, of id: UInt32) { previous[Int(id)] = value }

    /// Exact powers of ten as Doubles (all of 1e0...1e9 are exactly representable).
    private static let powers: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]

    /// value × 10^scale, rounded half away from zero, clamped to Int64.
    static func quantize(_ value: Double, scale: Int8) -> Int64 {
        let scaled = scale >= 0 ? value * powers[Int(scale)] : value / powers[Int(-scale)]
        let rounded = scaled.rounded(.toNearestOrAwayFromZero)
        if rounded >= 9.2233720368547748e18 { return .max }
        if rounded <= -9.2233720368547758e18 { return .min }
        return Int64(rounded)
    }

    /// q × 10^-scale.
    static func dequantize(_ quantized: Int64, scale: Int8) -> Double {
        scale >= 0 ? Double(quantized) / powers[Int(scale)] : Double(quantized) * powers[Int(-scale)]
    }
}
