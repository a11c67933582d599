#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
internal import Crypto
public import NIOCore
internal import NIOHTTP1
internal import NIOPosix

/// Fetches an agent build over plain HTTP into a file, hashing it on the way: the agent's own
/// small client (no Foundation URL loading), as `HTTPEnrollment`. The body is written in chunks
/// on NIO's thread pool, so a build of tens of MB never sits in memory.
public struct UpdateDownloader: Sendable {
    public var eventLoopGroup: any EventLoopGroup

    public init(eventLoopGroup: any EventLoopGroup) {
        self.eventLoopGroup = eventLoopGroup
    }

    /// `url` absolute (`http://host:port/path`) or server-relative (`/v1/...`, resolved
    /// against `serverURL`). Returns the SHA-256 and size of what was written to `path`.
    /// A download still running after `timeout` (a stalled server) is abandoned, so the
    /// updater is free for the next offer.
    public func download(url: String, serverURL: String, to path: String, maxBytes: Int, timeout: Duration) async throws(UpdateError) -> (sha256: [UInt8], size: Int) {
        do {
            return try await withThrowingTaskGroup(of: (sha256: [UInt8], size: Int)?.self) { group in
                group.addTask { try await self.fetch(url: url, serverURL: serverURL, to: path, maxBytes: maxBytes) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    throw UpdateError(.download, "the download did not finish within \(timeout.components.seconds) s")
                }
                return result
            }
        } catch let error as UpdateError {
            throw error
        } catch {
            throw UpdateError(.download, "\(error)")
        }
    }

    func fetch(url: String, serverURL: String, to path: String, maxBytes: Int) async throws(UpdateError) -> (sha256: [UInt8], size: Int) {
        let host: String
        let port: Int
        let target: String
        do {
            if url.hasPrefix("/") {
                (host, port) = try HTTPEnrollment.endpoint(serverURL)
                target = url
            } else {
                (host, port) = try HTTPEnrollment.endpoint(url)
                let rest = url.drop { $0 != ":" }.dropFirst(3)
                target = String(rest.drop { $0 != "/" })
            }
        } catch {
            throw UpdateError(.download, error.message)
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o700)
        guard descriptor >= 0 else { throw UpdateError(.download, "cannot create \(path): errno \(errno)") }
        defer { close(descriptor) }
        do {
            let channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "\(host):\(port)")
                headers.add(name: "User-Agent", value: "dvic-agent/\(AgentVersion.current)")
                headers.add(name: "Connection", value: "close")
                try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)))
                try await outbound.write(.end(nil))
                var hasher = SHA256()
                var size = 0
                var complete = false
                loop: for try await part in inbound {
                    switch part {
                    case .head(let head):
                        guard head.status == .ok else { throw UpdateError(.download, "the server answered \(head.status.code) to the download") }
                    case .body(let buffer):
                        size += buffer.readableBytes
                        guard size <= maxBytes else { throw UpdateError(.download, "the build is larger than the offer's \(maxBytes) bytes") }
                        buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                        try await NIOThreadPool.singleton.runIfActive { try Self.writeAll(descriptor, buffer) }
                    case .end:
                        complete = true
                        break loop
                    }
                }
                guard complete else { throw UpdateError(.download, "the download ended early after \(size) bytes") }
                return (Array(hasher.finalize()), size)
            }
        } catch let error as UpdateError {
            throw error
        } catch {
            throw UpdateError(.download, "cannot download the build from \(host):\(port): \(error)")
        }
    }

    static func writeAll(_ descriptor: CInt, _ buffer: ByteBuffer) throws(UpdateError) {
        try buffer.withUnsafeReadableBytes { (bytes: UnsafeRawBufferPointer) throws(UpdateError) in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw UpdateError(.download, "cannot write the build: errno \(errno)")
                }
                offset += written
            }
        }
    }
}
