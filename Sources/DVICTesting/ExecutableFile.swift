#if canImport(Glibc)
import Glibc
#endif
public import Foundation

/// Writes a program that a test is about to run. The descriptor is opened close-on-exec:
/// the test process starts children from other threads all the time, and a child that
/// inherited a descriptor open for writing keeps the file "busy" (ETXTBSY) for as long as
/// it lives, so an `exec` of it fails — a failure that showed up only in loaded CI runs.
public enum ExecutableFile {
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o755) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw HarnessError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw HarnessError("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
        fchmod(fd, mode)
    }
}
