#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import NIOCore
import NIOPosix

/// Tells when files of interest change in some directories, through inotify read by NIO, so the
/// log loop reacts at once instead of waiting for its next poll. It only signals: the loop still
/// polls every second, which is also all there is when inotify is unavailable (some containers
/// and network file systems), so nothing depends on an event arriving.
struct DirectoryChangeMonitor: Sendable {
    var directories: [String]
    /// Which names in those directories matter (`dvic_log_*`, configured log files).
    var isInteresting: @Sendable (String) -> Bool
    var eventLoopGroup: any EventLoopGroup
    var logger: Logger

    /// IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB.
    static let eventMask: UInt32 = 0x2 | 0x100 | 0x200 | 0x40 | 0x80 | 0x8 | 0x4

    /// Calls `signal` for every batch of interesting events until cancelled. Returns false at
    /// once when inotify cannot be used.
    func run(signal: @escaping @Sendable () -> Void) async -> Bool {
        let descriptor = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
        guard descriptor >= 0 else {
            logger.info("inotify is unavailable; polling the log directory every second")
            return false
        }
        var watched = 0
        for directory in directories where inotify_add_watch(descriptor, directory, Self.eventMask) >= 0 {
            watched += 1
        }
        guard watched > 0 else {
            closeDescriptor(descriptor)
            logger.info("cannot watch the log directory with inotify; polling it every second")
            return false
        }
        do {
            let channel = try await NIOPipeBootstrap(group: eventLoopGroup)
                // inotify refuses reads into a buffer smaller than one event with its name.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 8192))
                .takingOwnershipOfDescriptor(input: descriptor) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel)
                    }
                }
            try await channel.executeThenClose { inbound, _ in
                for try await buffer in inbound {
                    if Self.names(in: buffer).contains(where: isInteresting) { signal() }
                }
            }
        } catch {
            logger.debug("inotify monitor ended", metadata: ["error": "\(error)"])
        }
        return true
    }

    /// The file names of the `struct inotify_event`s in a read (an event on the directory itself
    /// has no name; a queue overflow is reported as an empty name, which counts as interesting).
    static func names(in buffer: ByteBuffer) -> [String] {
        var names: [String] = []
        var offset = buffer.readerIndex
        let end = buffer.writerIndex
        while end - offset >= 16 {
            let mask = buffer.getInteger(at: offset + 4, endianness: .host, as: UInt32.self) ?? 0
            let length = Int(buffer.getInteger(at: offset + 12, endianness: .host, as: UInt32.self) ?? 0)
            guard end - offset - 16 >= length else { break }
            let raw = buffer.getBytes(at: offset + 16, length: length) ?? []
            let name = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            if mask & 0x4000 != 0 {
                names.append("")  // IN_Q_OVERFLOW: events were lost, so look at everything
            } else if !name.isEmpty {
                names.append(name)
            }
            offset += 16 + length
        }
        return names
    }
}
