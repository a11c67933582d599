/// A byte offset in one particular file (device and inode), as text `device:inode:offset`.
public struct FilePosition: Sendable, Hashable, CustomStringConvertible {
    public var identity: FileIdentity
    public var offset: Int64

    public init(identity: FileIdentity, offset: Int64) {
        self.identity = identity
        self.offset = offset
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 3, let device = UInt64(parts[0]), let inode = UInt64(parts[1]), let offset = Int64(parts[2]),
            offset >= 0
        else { return nil }
        self.init(identity: FileIdentity(device: device, inode: inode), offset: offset)
    }

    public var description: String { "\(identity.device):\(identity.inode):\(offset)" }
}
