#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Gives back to the kernel the pages of the program's code and read-only data that are mapped
/// but not in use, for an executable that must stay small (the agent's 15 MB target).
///
/// Why: the kernel maps code in 64 KiB blocks around every page that is touched ("fault-around"),
/// and start-up touches code that never runs again (runtime and library initialisation, option
/// parsing). Those clean, file-backed pages count in the resident set although the kernel could
/// drop them at any time. `MADV_PAGEOUT` (Linux 5.4+) drops them now; what keeps running faults its
/// pages back in. Nothing is lost: they are read-only copies of the executable's file. Anonymous
/// memory (the heap, stacks) is not touched.
///
/// For an executable's `main` only: it acts on the whole process, so a library host (the server
/// running its local agent in-process) must not call it.
public enum ResidentMemory {
    /// Returns how many bytes of mappings were advised, 0 when the kernel does not support it.
    @discardableResult
    public static func releaseFileBackedPages() -> Int {
        guard let maps = FileSystem.readString("/proc/self/maps", maxBytes: 4 << 20) else { return 0 }
        let pageOut: Int32 = 21  // MADV_PAGEOUT
        var advised = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // address perms offset device inode path: private, not writable, backed by a file.
            guard fields.count >= 6, fields[1].hasSuffix("p"), !fields[1].contains("w"), fields[5].hasPrefix("/"),
                let dash = fields[0].firstIndex(of: "-"),
                let start = UInt(fields[0][..<dash], radix: 16),
                let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16)
            else { continue }
            if madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), pageOut) == 0 {
                advised += Int(end - start)
            }
        }
        return advised
    }
}
