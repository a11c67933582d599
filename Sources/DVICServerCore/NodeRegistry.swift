public import DVICProtocol
public import DVICStore
public import Logging
public import ServiceLifecycle

/// Every enrolled node, which ones are online, and their live sessions.
///
/// A thin shell over `NodeRegistryCore`: it persists what must survive a restart,
/// publishes status changes to the live stream, and closes replaced sessions.
public actor NodeRegistry: Service {
    private var core: NodeRegistryCore
    private let store: any FleetStore
    private let hub: StreamHub
    public nonisolated let links: LinkDirectory
    private let clock: FleetClock
    private let logger: Logger
    /// Last-seen times not yet persisted; written in one batch every few seconds
    /// rather than one row per frame.
    private var lastSeenDirty: [String: Int64] = [:]
    /// Each node's tags, for agent connections to read without a hop.
    public nonisolated let tagIndex = NodeTagIndex()
    /// Nodes heard from (`noteSeen`), taken in by one drain per hop rather than a hop each.
    private let sightings = ActorInbox<String>(gather: .ingestGather)

    public init(store: any FleetStore, hub: StreamHub, links: LinkDirectory, clock: FleetClock = .system, agentTimeoutMs: Int64 = 30_000, logger: Logger) {
        self.core = NodeRegistryCore(agentTimeoutMs: agentTimeoutMs)
        self.store = store
        self.hub = hub
        self.links = links
        self.clock = clock
        self.logger = logger
    }

    /// Reads the enrolled nodes from the store (all offline until they connect).
    public func load() async throws(StoreError) {
        let records = try await store.nodes()
        core.load(records.map(Self.info))
        tagIndex.replaceAll(Dictionary(records.map { ($0.id, $0.tags) }, uniquingKeysWith: { first, _ in first }))
    }

    static func info(_ record: NodeRecord) -> NodeInfo {
        NodeInfo(
            id: record.id, name: record.name, kind: record.kind == "device" ? .device : .agent, tags: record.tags,
            agentVersion: record.agentVersion, inventory: record.inventory, state: .offline, lastSeen: record.lastSeen)
    }

    /// Stores a newly enrolled node or device and announces it.
    public func add(_ record: NodeRecord) async throws(StoreError) -> NodeInfo {
        try await store.insertNode(record)
        let info = Self.info(record)
        tagIndex.set(info.id, info.tags)
        await apply(core.add(info))
        return info
    }

    public func remove(_ nodeID: String) async throws(StoreError) -> Bool {
        guard try await store.deleteNode(id: nodeID) else { return false }
        tagIndex.remove(nodeID)
        await apply(core.remove(nodeID))
        return true
    }

    public func rename(_ nodeID: String, name: String?, tags: [String]?) async throws(StoreError) -> NodeInfo? {
        guard core.nodes[nodeID] != nil else { return nil }
        _ = try await store.updateNode(id: nodeID, NodeUpdate(name: name, tags: tags))
        let info = core.update(nodeID) { info in
            if let name { info.name = name }
            if let tags { info.tags = tags }
        }
        if let info {
            tagIndex.set(nodeID, info.tags)
            await publish(info)
        }
        return info
    }

    /// A connection finished its handshake and becomes the node's session.
    public func connected(_ link: any NodeLink, agentVersion: String) async {
        let previous = links.link(link.nodeID)
        links.set(link)
        let directives = core.connected(nodeID: link.nodeID, sessionID: link.sessionID, agentVersion: agentVersion, now: clock.now())
        // The directory already points at the new link, so the replaced one is closed here.
        if let previous, previous.sessionID != link.sessionID {
            previous.close(reason: "replaced by a newer connection")
        }
        await apply(directives.filter { if case .closeSession = $0 { false } else { true } })
        if let info = core.nodes[link.nodeID], !agentVersion.isEmpty {
            _ = try? await store.updateNode(id: info.id, NodeUpdate(agentVersion: agentVersion))
        }
    }

    public func disconnected(nodeID: String, sessionID: String) async {
        links.remove(nodeID: nodeID, sessionID: sessionID)
        let now = clock.now()
        lastSeenDirty[nodeID] = now
        await apply(core.disconnected(nodeID: nodeID, sessionID: sessionID, now: now))
    }

    /// Notes that the node was heard from; returns its tags, which the caller needs
    /// for live-stream filtering, so that the ingest path pays one actor hop, not two.
    @discardableResult
    public func seen(_ nodeID: String) async -> [String] {
        let now = clock.now()
        lastSeenDirty[nodeID] = now
        await apply(core.seen(nodeID: nodeID, now: now))
        return core.nodes[nodeID]?.tags ?? []
    }

    /// Notes that an agent's node was heard from, without waiting for the registry: a
    /// connection calls this at most once a second, and at 10,000 nodes a hop each was
    /// 10,000 round trips a second. Drained in order, many per hop; the offline tick
    /// drains first, so a sighting still queued never lets a node time out.
    public nonisolated func noteSeen(_ nodeID: String) {
        sightings.push(nodeID) { await self.drainSightings() }
    }

    private func drainSightings() async {
        while true {
            let seen = sightings.take()
            if seen.isEmpty { return }
            let now = clock.now()
            var directives: [NodeRegistryCore.Directive] = []
            for nodeID in seen {
                lastSeenDirty[nodeID] = now
                directives += core.seen(nodeID: nodeID, now: now)
            }
            await apply(directives)
        }
    }

    /// A device posted; it promised to post again within `intervalSeconds`.
    @discardableResult
    public func deviceSeen(_ nodeID: String, intervalSeconds: Int) async -> [String] {
        _ = core.update(nodeID) { $0.keepaliveSeconds = intervalSeconds }
        return await seen(nodeID)
    }

    public func isCurrent(nodeID: String, sessionID: String) -> Bool {
        core.isCurrent(nodeID: nodeID, sessionID: sessionID)
    }

    public func node(_ id: String) -> NodeInfo? { core.nodes[id] }

    /// The tags of several nodes in one hop (unknown nodes are left out).
    public func tags(of ids: [String]) -> [String: [String]] {
        var tags: [String: [String]] = [:]
        for id in ids { if let node = core.nodes[id] { tags[id] = node.tags } }
        return tags
    }

    /// Whether some connection is the node's session now (a newer one may have
    /// replaced the one that just ended).
    public func hasSession(_ nodeID: String) -> Bool { core.sessions[nodeID] != nil }

    public func nodes() -> [NodeInfo] { core.nodes.values.sorted { $0.name < $1.name } }

    public func select(_ targets: CommandTargets) -> [NodeInfo] { core.select(targets) }

    public func setInventory(_ nodeID: String, _ attributes: [KeyValue]) async {
        var inventory: [String: String] = [:]
        for pair in attributes { inventory[pair.key] = pair.value }
        guard core.update(nodeID, { $0.inventory = inventory }) != nil else { return }
        _ = try? await store.updateNode(id: nodeID, NodeUpdate(inventory: inventory))
    }

    public func setDemos(_ nodeID: String, _ demos: [DemoProcess]) async {
        guard let info = core.update(nodeID, { $0.demos = demos }) else { return }
        await hub.publish(StreamEvent(kind: .processes, nodeID: nodeID, nodeTags: info.tags, message: .demoStates(DemoStates(nodeID: nodeID, processes: demos))))
    }

    public func setContainers(_ nodeID: String, _ containers: [ContainerInfo]) {
        _ = core.update(nodeID) { $0.containers = containers }
    }

    /// Ticks the offline timeouts every second and persists last-seen times.
    public func run() async throws {
        var ticks = 0
        while await GracefulTimer.tick(.seconds(1)) {
            await drainSightings()
            await apply(core.tick(now: clock.now()))
            ticks += 1
            if ticks % 5 == 0 { await persistLastSeen() }
        }
        await persistLastSeen()
    }

    private func persistLastSeen() async {
        guard !lastSeenDirty.isEmpty else { return }
        let batch = lastSeenDirty
        lastSeenDirty = [:]
        do {
            try await store.setLastSeen(batch)
        } catch {
            logger.warning("could not persist last-seen times", metadata: ["error": "\(error)"])
        }
    }

    private func publish(_ info: NodeInfo) async {
        await hub.publish(StreamEvent(kind: .status, nodeID: info.id, nodeTags: info.tags, message: .nodeStatus(info.statusMessage)))
    }

    private func apply(_ directives: [NodeRegistryCore.Directive]) async {
        for directive in directives {
            switch directive {
            case .publish(let status):
                await hub.publish(StreamEvent(kind: .status, nodeID: status.nodeID, nodeTags: status.tags, message: .nodeStatus(status)))
                logger.info("node \(status.state.name)", metadata: ["node": "\(status.nodeID)", "name": "\(status.name)"])
            case .closeSession(let nodeID, let sessionID):
                if let link = links.link(nodeID), link.sessionID == sessionID {
                    links.remove(nodeID: nodeID, sessionID: sessionID)
                    link.close(reason: "silent for too long")
                }
            }
        }
    }
}
