import Foundation
import Synchronization

/// Keeping the simulated nodes connected, as the real agent keeps itself: a node whose
/// connection drops waits a short jittered while, does the signed handshake again and
/// resends from the welcome's resume point (`LoadNode.connect`).
extension LoadTest {
    /// Runs `body` (the load and the drain) while a supervisor watches every node that
    /// connected, and stops the supervisor, with any reconnection still trying, after it.
    func keepingConnected<Value: Sendable>(_ nodes: [LoadNode], _ body: () async -> Value) async -> Value {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await supervise(nodes) }
            let result = await body()
            group.cancelAll()
            await group.waitForAll()
            return result
        }
    }

    /// Polls the nodes a few times a second (a lock each; no task per node), and starts
    /// a reconnection for each drop, at most `connectConcurrency` at once so a server
    /// restart does not meet ten thousand handshakes in the same second.
    private func supervise(_ nodes: [LoadNode]) async {
        let clock = ContinuousClock()
        let url = webSocketBase + "/v1/agent"
        let running = RunningCount()
        var waiting: [LoadNode] = []
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                for node in nodes where node.noticeDrop() {
                    if options.reconnect {
                        waiting.append(node)
                    } else {
                        node.giveUp(reason: nil)
                    }
                }
                while !waiting.isEmpty, running.value.load(ordering: .relaxed) < max(1, options.connectConcurrency) {
                    let node = waiting.removeFirst()
                    running.value.add(1, ordering: .relaxed)
                    group.addTask {
                        await reconnect(node, url: url)
                        running.value.subtract(1, ordering: .relaxed)
                    }
                }
                try? await clock.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Tries until the handshake succeeds, the attempts are used up, or the run ends
    /// (cancellation); a node that is not back by then fails the run.
    private func reconnect(_ node: LoadNode, url: String) async {
        let clock = ContinuousClock()
        var lastError: String?
        for attempt in 1...max(1, options.reconnectAttempts) {
            do {
                try await clock.sleep(for: Self.reconnectDelay(attempt: attempt))
            } catch {
                return
            }
            do {
                try await node.connect(url: url, timeout: .seconds(15), metrics: options.metrics)
                return
            } catch {
                lastError = "reconnect: \(error)"
            }
        }
        node.giveUp(reason: lastError)
    }

    /// The wait before reconnection attempt `attempt` (1…): 0.5–2 s, jittered so nodes
    /// dropped together do not come back together, growing to 2–8 s.
    static func reconnectDelay<Generator: RandomNumberGenerator>(attempt: Int, using generator: inout Generator) -> Duration {
        .milliseconds(Int.random(in: 500...2000, using: &generator) * min(4, max(1, attempt)))
    }

    static func reconnectDelay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return reconnectDelay(attempt: attempt, using: &generator)
    }
}

/// Reconnections in flight (an `Atomic` cannot be captured by the tasks themselves).
private final class RunningCount: Sendable {
    let value = Atomic<Int>(0)
}
