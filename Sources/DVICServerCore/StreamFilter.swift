public import DVICProtocol

/// Decides what of an event one subscription wants (Spec/protocol.md, `subscribe`):
/// empty lists match everything; logs also pass a minimum severity and a
/// case-insensitive text filter; metric points are cut down to the names asked for.
public struct StreamFilter: Sendable, Hashable {
    public var subscription: Subscribe
    private let loweredText: String

    public init(_ subscription: Subscribe) {
        self.subscription = subscription
        self.loweredText = subscription.text.lowercased()
    }

    /// The message this subscription should get for `event`, or nil.
    public func apply(to event: StreamEvent) -> Message? {
        guard subscription.kinds & event.kind.rawValue != 0 else { return nil }
        if event.kind != .jobs {
            if !subscription.nodes.isEmpty && !subscription.nodes.contains(event.nodeID) { return nil }
            if !subscription.tags.isEmpty && !event.nodeTags.contains(where: subscription.tags.contains) { return nil }
        }
        switch event.message {
        case .metricPoints(var points) where !subscription.metrics.isEmpty:
            points.points = points.points.filter { subscription.metrics.contains($0.name) }
            return points.points.isEmpty ? nil : .metricPoints(points)
        case .logEntries(var entries):
            let minimum = subscription.minSeverity.rawValue
            guard minimum > 0 || !loweredText.isEmpty else { return event.message }
            entries.entries = entries.entries.filter { entry in
                entry.severity.rawValue >= minimum && (loweredText.isEmpty || entry.text.lowercased().contains(loweredText))
            }
            return entries.entries.isEmpty ? nil : .logEntries(entries)
        default:
            return event.message
        }
    }
}
