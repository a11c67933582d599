#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `stat(2)` says about a file, reduced to what following a file needs.
public struct FileStatus: Sendable, Hashable {
    /// Device and inode: the file's identity, which a rename keeps and a new file does not.
    public var identity: FileIdentity
    public var size: Int64
    public var isRegularFile: Bool
    public var isDirectory: Bool
    /// Modification time in nanoseconds since the epoch.
    public var modificationNanoseconds: Int64

    init(_ raw: stat) {
        identity = FileIdentity(device: UInt64(raw.st_dev), inode: UInt64(raw.st_ino))
        size = Int64(raw.st_size)
        isRegularFile = raw.st_mode & S_IFMT == S_IFREG
        isDirectory = raw.st_mode & S_IFMT == S_IFDIR
        modificationNanoseconds = Int64(raw.st_mtim.tv_sec) * 1_000_000_000 + Int64(raw.st_mtim.tv_nsec)
    }
}
