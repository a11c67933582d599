internal import DVICAgentCore
internal import Crypto
internal import NIOCore
import Synchronization

/// An upload's body passed through on its way to disk while its SHA-256, size and agent version
/// stamp are measured, so that a build of tens of MB is never held in memory and never read
/// twice. More than `limit` bytes end the sequence with `APIError.tooLarge`.
struct MeasuredUpload<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer

    final class Measure: Sendable {
        struct State {
            var hasher = SHA256()
            var size = 0
            var scanner = AgentVersionStamp.Scanner()
        }

        let state = Mutex(State())

        var result: (sha256: [UInt8], size: Int, version: String?) {
            state.withLock { (Array($0.hasher.finalize()), $0.size, $0.scanner.version) }
        }
    }

    let base: Base
    let limit: Int
    let measure: Measure

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        let measure: Measure

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            let over = measure.state.withLock { state -> Bool in
                state.size += buffer.readableBytes
                guard state.size <= limit else { return true }
                buffer.withUnsafeReadableBytes { bytes in
                    state.hasher.update(bufferPointer: bytes)
                    state.scanner.feed(bytes)
                }
                return false
            }
            if over { throw APIError.tooLarge("an agent build may be at most \(limit >> 20) MiB") }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit, measure: measure)
    }
}
