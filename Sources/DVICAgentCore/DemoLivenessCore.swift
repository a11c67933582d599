public import DVICProtocol

/// Whether the demos behind log files still run (Spec/logfile.md §5), as a value type: the
/// caller supplies process start times, so tests drive it without processes.
///
/// A demo is `running` while its header's pid is alive and is the same process: on the first
/// check its start time must not be later than the header's `started` (plus a second of slack
/// for clock granularity), and afterwards its start ticks must stay those seen then. Anything
/// else (no such process, a zombie, a later process that reused the pid) is `exited`, for good.
public struct DemoLivenessCore: Sendable {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var name: String
        public var pid: Int32
        /// The header's `started`, nil when it could not be read.
        public var started: Int64?
        public var startTicks: UInt64 = 0
        public var state: RunState?
        public var changedAt: Int64 = 0
    }

    /// How much later than `started` a process may seem to have started and still be the writer.
    public static let slackMilliseconds: Int64 = 1000

    private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// Follows the demo behind `key`; a new pid or start time starts over.
    public mutating func track(key: String, name: String, pid: Int32, started: Int64?) {
        if let existing = entries[key], existing.pid == pid, existing.started == started {
            entries[key]?.name = name
            return
        }
        entries[key] = Entry(key: key, name: name, pid: pid, started: started)
    }

    public mutating func untrack(key: String) {
        entries[key] = nil
    }

    public func state(of key: String) -> RunState? {
        entries[key]?.state
    }

    /// Checks every demo not known to have exited; returns whether any state changed.
    public mutating func evaluate(now: Int64, probe: (Int32) -> ProcessStart?) -> Bool {
        var changed = false
        for key in entries.keys {
            var entry = entries[key]!
            guard entry.state != .exited else { continue }
            let start = probe(entry.pid)
            let newState: RunState
            if let start, !start.isZombie {
                if entry.state == nil {
                    if let started = entry.started, start.startMilliseconds > started + Self.slackMilliseconds {
                        newState = .exited  // a later process reused the pid
                    } else {
                        newState = .running
                        entry.startTicks = start.startTicks
                    }
                } else {
                    newState = start.startTicks == entry.startTicks ? .running : .exited
                }
            } else {
                newState = .exited
            }
            if newState != entry.state {
                entry.state = newState
                entry.changedAt = now
                entries[key] = entry
                changed = true
            }
        }
        return changed
    }

    /// The demos with a known state, by key.
    public var processes: [DemoProcess] {
        entries.values.compactMap { entry in
            entry.state.map { state in
                DemoProcess(
                    key: entry.key, name: entry.name, pid: UInt32(clamping: entry.pid), startTicks: entry.startTicks,
                    state: state, changedAt: entry.changedAt)
            }
        }.sorted { $0.key < $1.key }
    }
}
