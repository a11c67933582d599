import Foundation

/// Runs `body` on `count` real threads at once and waits for all of them.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    // Start together, so that the writes really overlap.
    let start = DispatchSemaphore(value: 0)
    for thread in 0..<count {
        group.enter()
        let worker = Thread {
            start.wait()
            body(thread)
            group.leave()
        }
        worker.start()
    }
    for _ in 0..<count { start.signal() }
    group.wait()
}
