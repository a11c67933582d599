/// `dvic metrics` for people: the points, then a summary and a sparkline.
public struct MetricsReport: Sendable, Hashable {
    public var series: CLIModel.NodeMetricSeries

    public init(_ series: CLIModel.NodeMetricSeries) {
        self.series = series
    }

    public var values: [Double] { series.points.map(\.value) }

    public func render(sparklineWidth: Int = 60) -> String {
        var table = TextTable(["TIME (UTC)", "VALUE"], alignments: [.left, .right])
        for point in series.points {
            table.append([HumanFormat.shortTime(point.time), NodeReport.metricValue(name: series.name, point.value)])
        }
        return [table.render(), summary, Sparkline.render(values, width: sparklineWidth)].joined(separator: "\n")
    }

    /// `cpu.total on lab-3: 60 points · min 2% · max 95% · avg 40.1% · last 37.5%`.
    public var summary: String {
        let finite = values.filter(\.isFinite)
        guard let last = finite.last else { return "\(series.name) on \(series.nodeName): no points" }
        let show = { (value: Double) in NodeReport.metricValue(name: series.name, value) }
        let average = finite.reduce(0, +) / Double(finite.count)
        return "\(series.name) on \(series.nodeName): \(finite.count) point\(finite.count == 1 ? "" : "s") · min \(show(finite.min()!)) · max \(show(finite.max()!)) · avg \(show(average)) · last \(show(last))"
    }
}
