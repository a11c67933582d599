/// Reconnection delays: exponential with full jitter (a uniformly random delay between zero and
/// `base × 2^attempt`, capped), so that thousands of agents do not reconnect to a restarted
/// server in step.
public struct Backoff: Sendable, Hashable {
    public var base: Duration
    public var cap: Duration
    /// Failures since the last success.
    public private(set) var attempt = 0

    public init(base: Duration = .milliseconds(500), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling for the current attempt: `min(cap, base × 2^attempt)`.
    public var ceiling: Duration {
        let factor = Double(1 << min(attempt, 30))
        let seconds = min(Self.seconds(cap), Self.seconds(base) * factor)
        return .nanoseconds(Int64(seconds * 1e9))
    }

    /// The delay before the next attempt, drawn from `generator`; counts the attempt.
    public mutating func next(using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = Self.seconds(self.ceiling)
        attempt += 1
        let fraction = Double.random(in: 0...1, using: &generator)
        return .nanoseconds(Int64(ceiling * fraction * 1e9))
    }

    public mutating func next() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    /// A connection worked: start again from `base`.
    public mutating func reset() {
        attempt = 0
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
