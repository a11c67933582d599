import DVICProtocol
import DVICServerCore
import Testing

@Suite struct StreamInterestTests {
    static func subscription(kinds: UInt64, nodes: [String] = [], tags: [String] = []) -> Subscribe {
        Subscribe(subscriptionID: 1, kinds: kinds, nodes: nodes, tags: tags, metrics: [], minSeverity: .trace, text: "")
    }

    @Test func nobodyWantsAnythingAtFirst() {
        #expect(!StreamInterest().wants(.metrics, nodeID: "n-1"))
    }

    @Test func nodeListsNarrowAndTagsWiden() {
        let interest = StreamInterest([
            Self.subscription(kinds: StreamEvent.Kind.metrics.rawValue, nodes: ["n-1"]),
            Self.subscription(kinds: StreamEvent.Kind.logs.rawValue, tags: ["lab-a"]),
        ])
        #expect(interest.wants(.metrics, nodeID: "n-1"))
        #expect(!interest.wants(.metrics, nodeID: "n-2"))
        // Tags are not known here, so a tag subscription counts for every node.
        #expect(interest.wants(.logs, nodeID: "n-2"))
        #expect(!interest.wants(.status, nodeID: "n-1"))
    }

    @Test func theHubFollowsSubscriptions() async {
        let hub = StreamHub()
        let (id, _) = await hub.add(role: .viewer)
        #expect(!hub.wants(.metrics, nodeID: "n-1"))
        await hub.subscribe(id, Self.subscription(kinds: StreamEvent.Kind.metrics.rawValue | StreamEvent.Kind.logs.rawValue))
        #expect(hub.wants(.metrics, nodeID: "n-1") && hub.wants(.logs, nodeID: "n-9"))
        await hub.unsubscribe(id, subscriptionID: 1)
        #expect(!hub.wants(.metrics, nodeID: "n-1"))
        await hub.subscribe(id, Self.subscription(kinds: StreamEvent.Kind.metrics.rawValue, nodes: ["n-1"]))
        await hub.remove(id)
        #expect(!hub.wants(.metrics, nodeID: "n-1"))
    }
}
