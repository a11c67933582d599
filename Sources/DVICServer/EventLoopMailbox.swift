internal import DVICProtocol
internal import DVICServerCore
internal import NIOCore
import Synchronization

/// What the actors send the agents of one event loop, handed over in one event-loop
/// task per turn rather than one task each.
///
/// Why: a broadcast sends 10,000 requests from the dispatcher, and each commit of log
/// batches sends an acknowledgement to every connection in it (20,000 a second at
/// 10,000 nodes). One `execute` each is a closure, a lock and often a wake-up of the
/// loop; here the first batch into an idle mailbox schedules one drain, which writes
/// everything queued so far and flushes each connection once.
final class EventLoopMailbox: Sendable {
    struct Delivery: Sendable {
        let handler: NIOLoopBound<AgentSessionHandler>
        let messages: [Message]
    }

    let eventLoop: any EventLoop
    private let inbox = ActorInbox<Delivery>()

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func post(_ handler: NIOLoopBound<AgentSessionHandler>, _ messages: [Message]) {
        if inbox.push(Delivery(handler: handler, messages: messages)) {
            eventLoop.execute { self.drain() }
        }
    }

    /// On the event loop: one batch, then the loop's I/O, then the next batch (an empty
    /// take ends the drain, so the next post schedules one again).
    private func drain() {
        let batch = inbox.take()
        guard !batch.isEmpty else { return }
        var unflushed: [AgentSessionHandler] = []
        for delivery in batch {
            let handler = delivery.handler.value
            if handler.write(delivery.messages, flush: false) { unflushed.append(handler) }
        }
        for handler in unflushed { handler.flushNow() }
        eventLoop.execute { self.drain() }
    }

    /// One mailbox per event loop, made on first use.
    final class Directory: Sendable {
        private let mailboxes = Mutex<[ObjectIdentifier: EventLoopMailbox]>([:])

        init() {}

        func mailbox(for eventLoop: any EventLoop) -> EventLoopMailbox {
            mailboxes.withLock { mailboxes in
                let key = ObjectIdentifier(eventLoop)
                if let existing = mailboxes[key] { return existing }
                let made = EventLoopMailbox(eventLoop: eventLoop)
                mailboxes[key] = made
                return made
            }
        }
    }
}
