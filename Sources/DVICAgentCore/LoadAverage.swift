/// /proc/loadavg: `0.52 0.58 0.59 2/345 12345`.
public struct LoadAverage: Sendable, Hashable {
    public var one: Double
    public var five: Double
    public var fifteen: Double

    public init(one: Double, five: Double, fifteen: Double) {
        self.one = one
        self.five = five
        self.fifteen = fifteen
    }

    public static func parse(_ text: String) -> LoadAverage? { parse(Array(text.utf8)) }

    public static func parse(_ bytes: [UInt8]) -> LoadAverage? {
        let fields = TextScanner.fields(bytes[...])
        guard fields.count >= 3, let one = TextScanner.double(fields[0]), let five = TextScanner.double(fields[1]),
            let fifteen = TextScanner.double(fields[2])
        else { return nil }
        return LoadAverage(one: one, five: five, fifteen: fifteen)
    }
}
