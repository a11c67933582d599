/// The usage of one mounted file system, from statvfs(3).
public struct FileSystemUsage: Sendable, Hashable {
    public var mountPoint: String
    public var totalBytes: UInt64
    /// Free for unprivileged users (root may use the reserved blocks beyond this).
    public var availableBytes: UInt64
    public var usedBytes: UInt64

    public init(mountPoint: String, totalBytes: UInt64, availableBytes: UInt64, usedBytes: UInt64) {
        self.mountPoint = mountPoint
        self.totalBytes = totalBytes
        self.availableBytes = availableBytes
        self.usedBytes = usedBytes
    }

    /// `df`'s Use%: used over what users can have, so that a disk full for users reads 100 %
    /// even with root's reserve left.
    public var usedPercent: Double {
        let usable = usedBytes + availableBytes
        return usable == 0 ? 0 : Double(usedBytes) / Double(usable) * 100
    }
}
