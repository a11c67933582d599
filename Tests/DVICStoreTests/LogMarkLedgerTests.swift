@testable import DVICStore
import Testing

/// The core of the SQLite store's deferred stream marks, without a database.
@Suite("Log mark ledger")
struct LogMarkLedgerTests {
    let start = ContinuousClock.now

    func stream(_ node: String, _ key: String = "s") -> LogStreamID {
        LogStreamID(nodeID: node, streamKey: key)
    }

    @Test("marks wait, only ever rise, and are due once the interval has passed")
    func waitsAndRises() {
        var ledger = LogMarkLedger(interval: .seconds(1), now: start)
        ledger.record([stream("a"): 5, stream("b"): 2])
        ledger.record([stream("a"): 3])
        #expect(ledger.mark(stream("a")) == 5)
        #expect(ledger.mark(stream("c")) == nil)
        #expect(ledger.marks(nodeID: "b") == ["s": 2])
        #expect(!ledger.isDue(at: start + .milliseconds(999)))
        #expect(ledger.isDue(at: start + .seconds(1)))
    }

    @Test("a save takes every waiting mark with the commit's own, and clears what it wrote")
    func saveClearsWhatItWrote() {
        var ledger = LogMarkLedger(interval: .seconds(1), now: start)
        ledger.record([stream("a"): 5, stream("b", "x"): 2, stream("b", "y"): 7])
        let save = ledger.toSave(with: [stream("a"): 9, stream("c"): 1, stream("b", "y"): 4])
        // The commit's own mark wins where higher; a waiting mark where higher.
        #expect(save == [stream("a"): 9, stream("b", "x"): 2, stream("b", "y"): 7, stream("c"): 1])
        ledger.record([stream("a"): 9, stream("c"): 1])
        ledger.saved(save, at: start + .seconds(2))
        #expect(ledger.unsaved.isEmpty)
        #expect(!ledger.isDue(at: start + .seconds(2)))
        #expect(ledger.isDue(at: start + .seconds(3)))
    }

    @Test("a mark raised above what was written keeps waiting")
    func raisedMarkKeepsWaiting() {
        var ledger = LogMarkLedger(interval: .zero, now: start)
        ledger.record([stream("a"): 5, stream("b"): 1])
        let save = ledger.toSave(with: [:])
        ledger.record([stream("a"): 8])
        ledger.saved(save, at: start)
        #expect(ledger.mark(stream("a")) == 8)
        #expect(ledger.mark(stream("b")) == nil)
    }

    @Test("a forgotten node's marks are not saved")
    func forgetsNode() {
        var ledger = LogMarkLedger(interval: .zero, now: start)
        ledger.record([stream("a"): 5, stream("b"): 1])
        ledger.forget(nodeID: "a")
        #expect(ledger.toSave(with: [:]) == [stream("b"): 1])
    }
}
