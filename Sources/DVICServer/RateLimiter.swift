/// A token bucket: `rate` events a second on average, bursts up to `burst`.
/// A value type the connection owns; time comes in, so tests need no clock.
public struct RateLimiter: Sendable {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var last: Int64

    public init(rate: Double, burst: Double, now: Int64) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = now
    }

    /// Takes `count` tokens; false when the bucket is empty (the caller refuses).
    public mutating func take(_ count: Double = 1, now: Int64) -> Bool {
        let elapsed = Double(max(0, now - last)) / 1000
        last = now
        tokens = min(burst, tokens + elapsed * rate)
        guard tokens >= count else { return false }
        tokens -= count
        return true
    }
}
