import DVICProtocol
import Foundation

/// The vector files of `Spec/vectors/`, read straight from the Spec folder so that no
/// copy of them lives in test code.
enum SpecVectors {
    /// One case of `Spec/vectors/frames/`.
    struct FrameVector: Codable {
        var name: String
        var description: String
        /// The bytes of one WebSocket message: zero or more frames.
        var hex: String
        /// Deflated payloads; deflate output may differ between zlib builds, so such
        /// vectors are checked in the decoding direction only.
        var compressed: Bool
        /// Encoding `messages` with a fresh encoder (no compression) gives `hex` exactly.
        var canonical: Bool
        /// What decoding gives, in order (before `error`, if any).
        var messages: [Message]
        /// The Spec error name decoding ends with, or nil.
        var error: String?
    }

    /// One case of `Spec/vectors/keepalive/`.
    struct KeepaliveVector: Codable {
        var name: String
        var description: String
        var body: String
        /// When set, the body is padded with spaces to this many bytes.
        var padTo: Int?
        var receivedAt: Int64
        var firstLogSeq: UInt64
        var messages: [Message]?
        var error: String?
        var status: Int?
    }

    static let root: URL = {
        // Tests/DVICProtocolTests/SpecVectors.swift → repository root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    static func folder(_ name: String) -> URL {
        root.appendingPathComponent("Spec/vectors").appendingPathComponent(name)
    }

    static func load<T: Decodable>(_ type: T.Type, from folderName: String) throws -> [T] {
        let folder = folder(folderName)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { file in
            try JSONDecoder().decode(T.self, from: Data(contentsOf: folder.appendingPathComponent(file)))
        }
    }

    static func frames() throws -> [FrameVector] { try load(FrameVector.self, from: "frames") }
    static func keepalives() throws -> [KeepaliveVector] { try load(KeepaliveVector.self, from: "keepalive") }

    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8? = nil
        for char in hex.utf8 {
            let nibble: UInt8
            switch char {
            case 0x30...0x39: nibble = char - 0x30
            case 0x61...0x66: nibble = char - 0x61 + 10
            default: continue
            }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
