public import ServiceLifecycle

/// The tick of a service's loop: sleeps for `interval` unless a graceful shutdown
/// begins first, so a stopping server never waits out a long tick.
public enum GracefulTimer {
    /// Sleeps; returns false once the service should stop looping.
    public static func tick(_ interval: Duration) async -> Bool {
        guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return false }
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        } catch {
            return false
        }
        return !Task.isShuttingDownGracefully && !Task.isCancelled
    }
}
