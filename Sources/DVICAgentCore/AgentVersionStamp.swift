#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The agent's version as a fixed-size stamp inside the executable, so that a build's version
/// can be read from its bytes (the server reads it from an uploaded build) and changed in a copy
/// without compiling (tests make "version B" from the one debug build).
///
/// The stamp is one string literal of `length` bytes: the marker `DVIC-AGENT-VERSION:`, the
/// version, and NUL padding. String literals are emitted as-is into the binary's read-only data,
/// in debug and release builds alike, and the version is parsed from them at run time, so a
/// patched copy reports the patched version.
public enum AgentVersionStamp {
    /// Marker plus version plus padding: the version may take `length - marker.count` bytes.
    public static let length = 64

    /// The marker, built reversed so that this array's own literal is not a second match of
    /// the forward marker in the binary (only the stamp itself is).
    public static let marker: [UInt8] = Array("#NOISREV-TNEGA-CIVD".utf8.reversed()).map { $0 == UInt8(ascii: "#") ? UInt8(ascii: ":") : $0 }

    /// The stamp. Keep the literal exactly `length` bytes long: marker, version, NULs.
    static let stamp: StaticString = "DVIC-AGENT-VERSION:0.1.0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"

    /// The version in this executable's stamp.
    public static var current: String { read(stamp) }

    /// Reads the stamp's bytes at run time. `@_optimize(none)` keeps the optimizer from folding
    /// the parse of a constant literal into a constant string, which would make a patched
    /// binary report the old version.
    @_optimize(none)
    static func read(_ stamp: StaticString) -> String {
        stamp.withUTF8Buffer { buffer in
            version(inStamp: Array(buffer)) ?? "0.0.0"
        }
    }

    /// The version in a stamp's bytes (marker first), nil when it is not one.
    static func version(inStamp bytes: some Collection<UInt8>) -> String? {
        guard bytes.count >= length, bytes.starts(with: marker) else { return nil }
        let field = bytes.dropFirst(marker.count).prefix(length - marker.count).prefix { $0 != 0 }
        guard !field.isEmpty, field.allSatisfy(isVersionByte) else { return nil }
        return String(decoding: field, as: UTF8.self)
    }

    /// Versions are `[A-Za-z0-9._+-]`, at most `length - marker.count` bytes.
    public static func isValidVersion(_ version: String) -> Bool {
        !version.isEmpty && version.utf8.count <= length - marker.count && version.utf8.allSatisfy(isVersionByte)
    }

    static func isVersionByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// Offsets of every stamp in `bytes`. `memchr` finds the candidates, so a debug build
    /// scans a 90 MB executable as fast as a release build does.
    public static func offsets(in bytes: [UInt8]) -> [Int] {
        var found: [Int] = []
        guard bytes.count >= length else { return found }
        let first = Int32(marker[0])
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var index = 0
            let last = buffer.count - length
            while index <= last {
                guard let hit = memchr(base + index, first, last - index + 1) else { break }
                let offset = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if version(inStamp: buffer[offset..<(offset + length)]) != nil { found.append(offset) }
                index = offset + 1
            }
        }
        return found
    }

    /// The version stamped into an executable's bytes, nil when there is no stamp.
    public static func version(in bytes: [UInt8]) -> String? {
        offsets(in: bytes).first.flatMap { offset in version(inStamp: bytes[offset..<(offset + length)]) }
    }

    /// `bytes` with every stamp rewritten to `version`; nil when there is no stamp or the
    /// version does not fit.
    public static func patched(_ bytes: [UInt8], version: String) -> [UInt8]? {
        guard isValidVersion(version) else { return nil }
        let offsets = offsets(in: bytes)
        guard !offsets.isEmpty else { return nil }
        var result = bytes
        var field = Array(version.utf8)
        field += [UInt8](repeating: 0, count: length - marker.count - field.count)
        for offset in offsets {
            result.replaceSubrange((offset + marker.count)..<(offset + length), with: field)
        }
        return result
    }

    /// Finds the stamp in a stream of chunks (an upload) without holding the whole file: keeps
    /// the last `length - 1` bytes of what it saw, so a stamp across two chunks is found too.
    public struct Scanner: Sendable {
        private var carry: [UInt8] = []
        public private(set) var version: String?

        public init() {}

        public mutating func feed(_ chunk: some Collection<UInt8>) {
            guard version == nil else { return }
            let window = carry + chunk
            if let found = AgentVersionStamp.version(in: window) {
                version = found
                carry = []
                return
            }
            carry = Array(window.suffix(AgentVersionStamp.length - 1))
        }
    }
}
