/// A one-line Unicode chart of a series: `▁▂▃▄▅▆▇█`, lowest value to highest.
public enum Sparkline {
    public static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// At most `width` characters: longer series are averaged into `width` buckets.
    /// Values that are not finite are skipped; an empty series gives "".
    public static func render(_ values: [Double], width: Int = 60) -> String {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty, width > 0 else { return "" }
        let buckets = bucket(finite, into: width)
        let low = buckets.min()!
        let high = buckets.max()!
        guard high > low else { return String(repeating: blocks[buckets.allSatisfy { $0 == 0 } ? 0 : 3], count: buckets.count) }
        return String(buckets.map { value in
            let position = (value - low) / (high - low) * Double(blocks.count - 1)
            return blocks[min(blocks.count - 1, max(0, Int(position.rounded())))]
        })
    }

    static func bucket(_ values: [Double], into width: Int) -> [Double] {
        guard values.count > width else { return values }
        return (0..<width).map { index in
            let start = index * values.count / width
            let end = max(start + 1, (index + 1) * values.count / width)
            let slice = values[start..<end]
            return slice.reduce(0, +) / Double(slice.count)
        }
    }
}
