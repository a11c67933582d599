/// The flags/version byte of a frame (Spec/protocol.md, 3.2):
/// bits 7–4 the protocol version, bit 3 reserved (0), bits 2–1 the preset
/// dictionary id (0 = none), bit 0 set when the payload is zlib-deflated.
public struct FrameFlags: Hashable, Sendable {
    public var version: UInt8
    public var deflated: Bool
    public var dictionaryID: UInt8

    /// The versions this implementation reads and writes.
    public static let supportedVersions: ClosedRange<UInt8> = 1...1
    public static let currentVersion: UInt8 = 1

    public init(version: UInt8 = FrameFlags.currentVersion, deflated: Bool = false, dictionaryID: UInt8 = 0) {
        precondition(version <= 15 && dictionaryID <= 3 && (deflated || dictionaryID == 0))
        self.version = version
        self.deflated = deflated
        self.dictionaryID = dictionaryID
    }

    public init(byte: UInt8) throws(ProtocolError) {
        let version = byte >> 4
        guard Self.supportedVersions.contains(version) else { throw .unsupportedVersion(version) }
        let deflated = byte & 0x01 != 0
        let dictionaryID = (byte >> 1) & 0x03
        // A dictionary only means something for a deflated payload.
        guard byte & 0x08 == 0, deflated || dictionaryID == 0 else { throw .reservedFlags(byte) }
        self.version = version
        self.deflated = deflated
        self.dictionaryID = dictionaryID
    }

    public var byte: UInt8 {
        version << 4 | dictionaryID << 1 | (deflated ? 1 : 0)
    }
}
