/// One GPU's figures from `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu --format=csv,noheader,nounits`.
public struct GPUReading: Sendable, Hashable {
    public var index: Int
    public var name: String
    public var utilizationPercent: Double?
    public var memoryUsedBytes: Double?
    public var memoryTotalBytes: Double?
    public var celsius: Double?

    public init(
        index: Int, name: String, utilizationPercent: Double?, memoryUsedBytes: Double?, memoryTotalBytes: Double?,
        celsius: Double?
    ) {
        self.index = index
        self.name = name
        self.utilizationPercent = utilizationPercent
        self.memoryUsedBytes = memoryUsedBytes
        self.memoryTotalBytes = memoryTotalBytes
        self.celsius = celsius
    }

    /// The arguments that produce the CSV `parse` reads.
    public static let nvidiaSMIArguments = [
        "--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu",
        "--format=csv,noheader,nounits",
    ]

    /// One reading per line; fields nvidia-smi cannot tell are `[N/A]` or `[Not Supported]`.
    public static func parse(_ text: String) -> [GPUReading] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingASCIIWhitespace() }
            guard fields.count >= 6, let index = Int(fields[0]) else { return nil }
            // Memory comes in MiB.
            return GPUReading(
                index: index, name: fields[1], utilizationPercent: Double(fields[2]),
                memoryUsedBytes: Double(fields[3]).map { $0 * 1_048_576 },
                memoryTotalBytes: Double(fields[4]).map { $0 * 1_048_576 }, celsius: Double(fields[5]))
        }
    }
}
