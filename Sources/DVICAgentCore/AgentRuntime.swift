public import DVICProtocol
public import Logging

/// The agent's shared state and the one place where it changes: the spool, the metrics ring, the
/// node's last known state, and the protocol session of the current connection.
///
/// Collectors and watchers hand it what they read; the connection hands it what the server says
/// and asks it what to send next (`takeOutbound`), which it builds from control messages, the
/// metrics ring and the spool. Commands and terminals report through `enqueue`.
public actor AgentRuntime {
    /// What the connection should do next.
    public struct Outbound: Sendable {
        public var messages: [Message]
        /// Close the WebSocket (after sending `messages`).
        public var close: (code: UInt16, reason: String)?
        /// The preset dictionary to deflate with on this connection.
        public var dictionaryID: UInt8
    }

    public private(set) var configuration: AgentConfiguration
    private let logger: Logger
    private let spool: Spool
    private var ring: MetricsRing
    private var descriptors: [MetricDescriptor] = []
    private var inventory: [KeyValue] = []
    private var processGroups: [String: [DemoProcess]] = [:]
    private var containers: [ContainerInfo]?
    private var session: AgentSessionCore?
    private var outbox: [Message] = []
    private var closeRequest: (code: UInt16, reason: String)?
    private var wakeup: AsyncStream<Void>.Continuation?
    private var commands: CommandRunner?
    private var terminals: PtyManager?
    private var installs: InstallRunner?
    private var configurationWatchers: [AsyncStream<AgentConfiguration>.Continuation] = []
    private var updateOffers: AsyncStream<UpdateOffer>.Continuation?

    public init(configuration: AgentConfiguration, spool: Spool, logger: Logger) {
        self.configuration = configuration
        self.spool = spool
        self.logger = logger
        self.ring = MetricsRing(capacity: configuration.metricsRingCapacity)
    }

    public func attach(commands: CommandRunner?, terminals: PtyManager?, installs: InstallRunner? = nil) {
        self.commands = commands
        self.terminals = terminals
        self.installs = installs
    }

    /// The configuration now and every time the server changes it.
    public func configurationUpdates() -> AsyncStream<AgentConfiguration> {
        let (stream, continuation) = AsyncStream.makeStream(of: AgentConfiguration.self, bufferingPolicy: .bufferingNewest(1))
        continuation.yield(configuration)
        configurationWatchers.append(continuation)
        return stream
    }

    /// The server's update offers, for the `SelfUpdater` (one reader). Without a reader an offer
    /// is refused on the spot.
    public func updateOfferStream() -> AsyncStream<UpdateOffer> {
        let (stream, continuation) = AsyncStream.makeStream(of: UpdateOffer.self, bufferingPolicy: .bufferingNewest(4))
        updateOffers = continuation
        return stream
    }

    // MARK: - Sources

    public func resume(for key: String) -> SourceResume {
        spool.resume(for: key)
    }

    /// Spools what a log source read, with stream descriptions that changed and streams whose
    /// source is gone.
    public func ingest(chunks: [LogChunk], updated: [LogStreamInfo] = [], gone: [String] = []) {
        for info in updated { spool.register(info) }
        for chunk in chunks {
            do {
                try spool.append(chunk)
            } catch {
                logger.error("cannot spool log records", metadata: ["stream": "\(chunk.info.key)", "error": "\(error)"])
            }
        }
        spool.markGone(gone)
        if !chunks.isEmpty || !gone.isEmpty { wakeup?.yield() }
    }

    /// After the first full scan: streams of these kinds that no source claims are gone.
    public func sourcesScanned(prefixes: [String], active: Set<String>) {
        spool.markGone(keysWithPrefixes: prefixes, except: active)
    }

    public func recordMetrics(_ update: MetricsCollectorCore.Update) {
        if update.renumbered { ring.removeAll() }
        if let descriptors = update.descriptors {
            self.descriptors = descriptors
            if session?.isEstablished == true { outbox.append(.metricDescriptors(MetricDescriptors(descriptors: descriptors))) }
        }
        ring.append(update.sample)
        if session?.isEstablished == true { wakeup?.yield() }
    }

    /// The demo processes of one source (`host`, or a container).
    public func updateProcesses(source: String, _ processes: [DemoProcess]) {
        guard processGroups[source] != processes else { return }
        processGroups[source] = processes.isEmpty ? nil : processes
        send(.processStates(ProcessStates(processes: allProcesses)))
    }

    public func updateContainers(_ containers: [ContainerInfo]) {
        guard self.containers != containers else { return }
        self.containers = containers
        send(.containerStates(ContainerStates(containers: containers)))
    }

    public func updateInventory(_ attributes: [KeyValue]) {
        guard inventory != attributes else { return }
        inventory = attributes
        send(.inventory(Inventory(attributes: attributes)))
    }

    /// Messages from commands and terminals; dropped when no session is open, since their
    /// session on the server is gone with the connection.
    public func enqueue(_ messages: [Message]) {
        send(contentsOf: messages)
    }

    /// The demos of every source, by key.
    public var allProcesses: [DemoProcess] {
        processGroups.values.flatMap { $0 }.sorted { $0.key < $1.key }
    }

    /// The server's acknowledged sequence number of a stream (for inspection and tests).
    public func acknowledged(for key: String) -> UInt64 {
        spool.acknowledged(for: key)
    }

    /// The source position persisted for a stream (for inspection and tests).
    public func persistedCheckpoint(for key: String) -> SourceCheckpoint? {
        spool.persistedCheckpoint(for: key)
    }

    public var spoolStatistics: (bytes: Int64, segments: Int, dropped: UInt64) {
        (spool.totalBytes, spool.segmentCount, spool.droppedRecordCount)
    }

    /// Once a second: sync the spool, close streams whose source is gone, run the session's clock.
    public func housekeeping(now: Int64) {
        spool.flush()
        for key in spool.closableStreams() {
            if session?.isEstablished == true, let id = session?.closeStream(key: key) {
                outbox.append(.logStreamClose(LogStreamClose(streamID: id)))
                wakeup?.yield()
            }
            spool.retire(key)
        }
        if var core = session {
            let directives = core.tick(now: now)
            session = core
            execute(directives)
        }
    }

    /// The agent is stopping: everything spooled is synced.
    public func shutdown() {
        spool.flush()
    }

    // MARK: - Connection

    /// A WebSocket is open: a new session starts. The stream yields whenever there is something
    /// to send (`takeOutbound`).
    public func connectionOpened(identity: AgentIdentity, now: Int64) -> AsyncStream<Void> {
        connectionClosed()
        session = AgentSessionCore(identity: identity, now: now)
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeup = continuation
        return stream
    }

    public func connectionClosed() {
        if session != nil { logger.debug("connection closed") }
        session = nil
        outbox = []
        closeRequest = nil
        wakeup?.finish()
        wakeup = nil
        spool.endDelivery()
    }

    public var isEstablished: Bool { session?.isEstablished == true }

    public func receive(_ message: Message) {
        guard var core = session else { return }
        let directives = core.receive(message, now: WallClock.milliseconds())
        session = core
        execute(directives)
    }

    public func connectionTick(now: Int64) {
        guard var core = session else { return }
        let directives = core.tick(now: now)
        session = core
        execute(directives)
    }

    /// The peer sent bytes that break the protocol (Spec/protocol.md 8): say why and close.
    public func protocolError(_ error: ProtocolError) {
        logger.warning("protocol error from the server", metadata: ["error": "\(error)"])
        outbox.append(.error(ErrorMessage(code: error.name, fatal: true, message: error.message)))
        let tooLarge = error.name == "frame_too_large" || error.name == "payload_too_large"
        requestClose(code: tooLarge ? 1009 : AgentSessionCore.CloseCode.protocolError, reason: error.name)
    }

    public func requestClose(code: UInt16, reason: String) {
        closeRequest = (code, reason)
        wakeup?.yield()
    }

    /// What to send now: control messages first, then metric samples, then log batches within
    /// the spool's in-flight window.
    public func takeOutbound() -> Outbound {
        var messages = outbox
        outbox = []
        if session?.isEstablished == true {
            for sample in ring.drain() { messages.append(.metricSample(sample)) }
            for delivery in spool.nextDeliveries() {
                let key = delivery.key
                guard let (id, isNew) = session?.streamID(for: key) else { break }
                if isNew {
                    let info = spool.info(for: key) ?? LogStreamInfo.fallback(key: key)
                    messages.append(.logStreamOpen(info.openMessage(streamID: id)))
                }
                switch delivery {
                case .records(_, let firstSeq, let records):
                    messages.append(.logBatch(LogBatch(streamID: id, firstSeq: firstSeq, records: records)))
                case .gap(_, let firstSeq, let count):
                    messages.append(.logGap(LogGap(streamID: id, firstSeq: firstSeq, count: count)))
                }
            }
        }
        let close = closeRequest
        closeRequest = nil
        return Outbound(messages: messages, close: close, dictionaryID: session?.dictionaryID ?? 0)
    }

    // MARK: - Directives

    private func execute(_ directives: [AgentSessionCore.Directive]) {
        for directive in directives {
            switch directive {
            case .send(let messages):
                outbox += messages
                wakeup?.yield()
            case .established(let welcome):
                logger.info("connected to the server", metadata: ["session": "\(welcome.sessionID)"])
                apply(serverConfiguration: welcome.config)
                var points: [String: UInt64] = [:]
                for point in welcome.resume { points[point.key] = max(points[point.key] ?? 0, point.lastSeq) }
                outbox.append(.inventory(Inventory(attributes: inventory)))
                if !descriptors.isEmpty { outbox.append(.metricDescriptors(MetricDescriptors(descriptors: descriptors))) }
                outbox.append(.processStates(ProcessStates(processes: allProcesses)))
                if let containers { outbox.append(.containerStates(ContainerStates(containers: containers))) }
                spool.beginDelivery(resume: points)
                wakeup?.yield()
            case .applyConfig(let config):
                apply(serverConfiguration: config)
            case .acknowledge(let key, let seq):
                spool.acknowledge(key: key, seq: seq)
                wakeup?.yield()
            case .runCommand(let request):
                commands?.submit(request)
            case .cancelCommand(let id):
                commands?.cancel(id)
            case .openPty(let request):
                terminals?.open(request)
            case .ptyInput(let input):
                terminals?.input(input)
            case .resizePty(let resize):
                terminals?.resize(resize)
            case .closePty(let close):
                terminals?.close(close)
            case .runInstall(let request):
                if let installs {
                    installs.submit(request)
                } else {
                    outbox.append(.installProgress(InstallProgress(
                        jobID: request.jobID, step: "", message: "this agent runs no installs", hostKey: "", failure: "source_unavailable", finished: true)))
                    wakeup?.yield()
                }
            case .close(let code, let reason):
                logger.info("closing the connection", metadata: ["code": "\(code)", "reason": "\(reason)"])
                requestClose(code: code, reason: reason)
            case .update(let offer):
                if let updateOffers {
                    updateOffers.yield(offer)
                } else {
                    outbox.append(.updateStatus(UpdateStatus(version: offer.version, state: .refused, message: "this agent does not update itself")))
                    wakeup?.yield()
                }
            }
        }
    }

    private func apply(serverConfiguration config: [KeyValue]) {
        let changes = configuration.apply(server: config)
        if changes.commands { commands?.setMaxParallel(configuration.commandsMaxParallel) }
        if changes.interval || changes.journald || changes.logFiles || changes.spool || changes.commands {
            logger.info("configuration changed by the server")
            for watcher in configurationWatchers { watcher.yield(configuration) }
        }
    }

    private func send(_ message: Message) {
        send(contentsOf: [message])
    }

    private func send(contentsOf messages: [Message]) {
        guard session?.isEstablished == true else { return }
        outbox += messages
        wakeup?.yield()
    }
}
