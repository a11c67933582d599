#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DVICProtocol
public import Logging
public import NIOCore
import NIOPosix

/// Follows the systemd journal through a `journalctl -f -o json` child process, as the stream
/// `journald`: records numbered on from the spool's checkpoint, whose position is the journal
/// cursor (`--after-cursor` resumes exactly after the last stored entry). When journalctl is not
/// installed the follower ends at once; when it exits it is started again after a backoff.
public struct JournalFollower: Sendable {
    public static let streamKey = "journald"

    public var executable: String
    /// Units to follow (`-u`); empty for the whole journal.
    public var units: [String]
    public let logger: Logger
    public let eventLoopGroup: any EventLoopGroup

    public init(executable: String = "journalctl", units: [String] = [], logger: Logger, eventLoopGroup: any EventLoopGroup) {
        self.executable = executable
        self.units = units
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
    }

    public static var info: LogStreamInfo {
        LogStreamInfo(key: streamKey, source: .journald, name: "journald")
    }

    /// The arguments for a run resuming after `cursor` (from the newest entries when nil).
    public func arguments(after cursor: String?) -> [String] {
        var arguments = ["-f", "-o", "json", "--no-pager"]
        if let cursor {
            arguments.append("--after-cursor=\(cursor)")
        } else {
            arguments += ["-n", "0"]
        }
        for unit in units { arguments += ["-u", unit] }
        return arguments
    }

    /// Runs until cancelled. `emit` receives the records in order.
    public func run(resume: SourceResume, emit: @escaping @Sendable (LogChunk) async -> Void) async {
        guard let path = FileSystem.which(executable) else {
            logger.info("journalctl not found; system logs are not collected", metadata: ["path": "\(executable)"])
            return
        }
        var cursor = resume.checkpoint?.position
        var nextSeq = resume.checkpoint.map { $0.seq + 1 } ?? resume.lastSeq + 1
        var backoff = Backoff(base: .seconds(1), cap: .seconds(30))
        while !Task.isCancelled {
            let started = WallClock.monotonicNanoseconds()
            let state = await runOnce(path: path, cursor: cursor, nextSeq: nextSeq, emit: emit)
            cursor = state.cursor
            nextSeq = state.nextSeq
            if WallClock.monotonicNanoseconds() - started > 60_000_000_000 { backoff.reset() }
            guard !Task.isCancelled else { return }
            let delay = backoff.next()
            logger.debug("journalctl ended; starting it again", metadata: ["delay": "\(delay)"])
            try? await Task.sleep(for: delay)
        }
    }

    private func runOnce(
        path: String, cursor: String?, nextSeq: UInt64, emit: @escaping @Sendable (LogChunk) async -> Void
    ) async -> (cursor: String?, nextSeq: UInt64) {
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn([path] + arguments(after: cursor))
        } catch {
            logger.warning("cannot start journalctl", metadata: ["error": "\(error)"])
            return (cursor, nextSeq)
        }
        closeDescriptor(child.stderr)
        let pid = child.pid
        var state = (cursor: cursor, nextSeq: nextSeq)
        await withTaskCancellationHandler {
            do {
                let channel = try await NIOPipeBootstrap(group: eventLoopGroup).takingOwnershipOfDescriptor(input: child.stdout) {
                    channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel)
                    }
                }
                try await channel.executeThenClose { inbound, _ in
                    var pending: [UInt8] = []
                    for try await buffer in inbound {
                        pending += buffer.readableBytesView
                        var records: [JournalEntry] = []
                        var start = 0
                        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                            let now = WallClock.milliseconds()
                            if let entry = JournalEntry.parse(line: pending[start..<newline], now: now) { records.append(entry) }
                            start = newline + 1
                        }
                        pending.removeSubrange(0..<start)
                        if pending.count > 8 << 20 { pending.removeAll() }  // no line is that long; resynchronise
                        guard let last = records.last else { continue }
                        let chunk = LogChunk(
                            info: Self.info, firstSeq: state.nextSeq, records: records.map(\.record),
                            checkpoint: SourceCheckpoint(seq: state.nextSeq + UInt64(records.count) - 1, position: last.cursor))
                        state = (last.cursor, state.nextSeq + UInt64(records.count))
                        await emit(chunk)
                    }
                }
            } catch {
                logger.debug("journalctl output ended", metadata: ["error": "\(error)"])
            }
            kill(pid, SIGTERM)
            _ = await ChildProcess.wait(for: pid)
        } onCancel: {
            kill(pid, SIGTERM)
        }
        return state
    }
}
