#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Runs `nvidia-smi` now and then, off the collectors' path, and keeps its last readings for them.
final class GPUMonitor: Sendable {
    private let readings = Mutex<[GPUReading]>([])

    var latest: [GPUReading] { readings.withLock { $0 } }

    /// Polls every `interval` until cancelled; returns at once when nvidia-smi is not installed.
    func run(executable: String, interval: Duration, eventLoopGroup: any EventLoopGroup, logger: Logger) async {
        guard let path = FileSystem.which(executable) else { return }
        while !Task.isCancelled {
            if let output = await Self.output(of: [path] + GPUReading.nvidiaSMIArguments, eventLoopGroup: eventLoopGroup) {
                let parsed = GPUReading.parse(output)
                readings.withLock { $0 = parsed }
            } else {
                logger.debug("nvidia-smi gave no answer")
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// The standard output of a short-lived command, or nil when it could not run or failed.
    static func output(of argv: [String], eventLoopGroup: any EventLoopGroup, limit: Int = 1 << 20) async -> String? {
        guard let child = try? ChildProcess.spawn(argv) else { return nil }
        closeDescriptor(child.stderr)
        var bytes: [UInt8] = []
        do {
            let channel = try await NIOPipeBootstrap(group: eventLoopGroup).takingOwnershipOfDescriptor(input: child.stdout) {
                channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel)
                }
            }
            bytes = try await channel.executeThenClose { inbound, _ in
                var collected: [UInt8] = []
                for try await buffer in inbound where collected.count < limit {
                    collected += buffer.readableBytesView
                }
                return collected
            }
        } catch {
            kill(child.pid, SIGKILL)
        }
        guard case .exited(0) = await ChildProcess.wait(for: child.pid) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
