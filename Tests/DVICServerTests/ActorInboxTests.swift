import DVICServerCore
import Synchronization
import Testing

/// `ActorInbox`: order, one drain at a time, and the gather before a started drain.
@Suite struct ActorInboxTests {
    /// What the drains of one inbox took, one array per take.
    final class Takes: Sendable {
        let inbox: ActorInbox<Int>
        let taken = Mutex<[[Int]]>([])
        let drains = Mutex(0)

        init(gather: Duration) {
            inbox = ActorInbox(gather: gather)
        }

        func push(_ item: Int) {
            inbox.push(item) { [self] in
                drains.withLock { $0 += 1 }
                while true {
                    let items = inbox.take()
                    if items.isEmpty { return }
                    taken.withLock { $0.append(items) }
                }
            }
        }

        var all: [Int] { taken.withLock { $0.flatMap { $0 } } }
    }

    /// Waits (polling) until `condition` holds, for at most 10 s.
    func waitUntil(_ condition: () -> Bool) async {
        for _ in 0..<1000 where !condition() {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    func waitFor(_ takes: Takes, count: Int) async {
        await waitUntil { takes.all.count >= count }
    }

    @Test func pushesDuringTheGatherAreTakenByOneDrain() async {
        // The second push comes 20 ms after the first, well inside the 1 s gather: one
        // drain must take both (without the gather, the first drain takes 1 alone).
        let takes = Takes(gather: .seconds(1))
        takes.push(1)
        try? await Task.sleep(for: .milliseconds(20))
        for item in 2...100 { takes.push(item) }
        await waitFor(takes, count: 100)
        #expect(takes.all == Array(1...100))
        #expect(takes.taken.withLock { $0.count } == 1)
        #expect(takes.drains.withLock { $0 } == 1)
    }

    @Test func withoutGatherAnIdleInboxIsDrainedAtOnce() async {
        let takes = Takes(gather: .zero)
        takes.push(1)
        await waitFor(takes, count: 1)
        #expect(takes.all == [1])
        // The inbox is idle again: the next push starts a new drain.
        takes.push(2)
        await waitFor(takes, count: 2)
        #expect(takes.all == [1, 2])
        #expect(takes.drains.withLock { $0 } == 2)
    }

    @Test func aReaderDrainingFirstLeavesTheStartedDrainNothing() async {
        // What a query does: it drains the inbox itself rather than wait for the gather.
        let takes = Takes(gather: .milliseconds(200))
        takes.push(1)
        takes.push(2)
        #expect(takes.inbox.take() == [1, 2])
        #expect(takes.inbox.take() == [])
        await waitUntil { takes.drains.withLock { $0 } == 1 }
        #expect(takes.drains.withLock { $0 } == 1)
        #expect(takes.all == [])
        // Nothing is lost after that: a new push starts a new drain.
        takes.push(3)
        await waitFor(takes, count: 1)
        #expect(takes.all == [3])
    }

    @Test func orderIsKeptAcrossManyPushersAndDrains() async {
        let takes = Takes(gather: .milliseconds(1))
        await withTaskGroup(of: Void.self) { group in
            for pusher in 0..<4 {
                group.addTask {
                    for index in 0..<500 {
                        takes.push(pusher * 1000 + index)
                        if index % 50 == 0 { try? await Task.sleep(for: .milliseconds(2)) }
                    }
                }
            }
        }
        await waitFor(takes, count: 2000)
        let all = takes.all
        #expect(all.count == 2000)
        #expect(Set(all).count == 2000)
        // Each pusher's items come out in the order it pushed them.
        for pusher in 0..<4 {
            let own = all.filter { $0 / 1000 == pusher }
            #expect(own == own.sorted())
        }
    }
}
