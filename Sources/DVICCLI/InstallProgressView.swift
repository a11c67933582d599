/// `dvic node add`'s progress display: one line per step as it is reached, then the verdict.
/// No I/O: the command feeds it polled job states and prints what it returns.
public struct InstallProgressView: Sendable {
    private var printed = 0

    public init() {}

    /// Lines for the steps not shown yet.
    public mutating func lines(for job: CLIModel.InstallJob) -> [String] {
        guard job.steps.count > printed else { return [] }
        let new = job.steps[printed...]
        printed = job.steps.count
        let width = max(String(job.total).count, 1)
        return new.map { step in
            let index = Self.plan.firstIndex(of: step.step).map { String($0 + 1) } ?? "·"
            let counter = "[\(String(repeating: " ", count: max(0, width - index.count)))\(index)/\(job.total)]"
            return "\(counter) \(step.step.padding(13)) \(step.message)"
        }
    }

    /// The last line: what happened and, on failure, the failure's name and message.
    public static func verdict(_ job: CLIModel.InstallJob) -> String {
        switch job.state {
        case "succeeded":
            return "Installed: \(job.name.isEmpty ? job.host : job.name) is node \(job.nodeID ?? "?") and online."
        case "failed":
            return "Install failed (\(job.failure ?? "failed")): \(job.message)"
        default:
            return "Install \(job.id) is still running; follow it with dvic node add --job \(job.id)"
        }
    }

    static let plan = ["connecting", "authenticated", "downloading", "installed", "started", "online"]
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
