#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The few file operations the agent needs, on plain POSIX calls (no Foundation: it would cost
/// the agent 20 MB of resident memory).
enum FileSystem {
    /// The whole content of a file, or nil when it cannot be read. /proc and /sys files report a
    /// size of 0, so this reads until end of file rather than trusting `st_size`.
    static func readFile(_ path: String, maxBytes: Int = 4 << 20) -> [UInt8]? {
        var bytes: [UInt8] = []
        return readFile(path, into: &bytes, maxBytes: maxBytes) ? bytes : nil
    }

    /// Reads a file into `bytes` (replacing its content), reusing its storage: the collectors read
    /// the same /proc files every second.
    static func readFile(_ path: String, into bytes: inout [UInt8], maxBytes: Int = 4 << 20) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        bytes.removeAll(keepingCapacity: true)
        var chunk = 4096
        while bytes.count < maxBytes {
            let start = bytes.count
            let want = min(chunk, maxBytes - start)
            bytes.append(contentsOf: repeatElement(0, count: want))
            let got = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + start, want)
            }
            if got < 0 {
                if errno == EINTR {
                    bytes.removeSubrange(start...)
                    continue
                }
                bytes.removeSubrange(start...)
                return false
            }
            bytes.removeSubrange((start + got)...)
            if got == 0 { break }
            chunk = min(chunk * 2, 1 << 20)
        }
        return true
    }

    /// A file's content as text (invalid UTF-8 repaired), or nil.
    static func readString(_ path: String, maxBytes: Int = 1 << 20) -> String? {
        readFile(path, maxBytes: maxBytes).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The first line of a small file without its newline, or nil: sysfs values are one line.
    static func readLine(_ path: String) -> String? {
        guard var text = readString(path, maxBytes: 4096) else { return nil }
        if let newline = text.firstIndex(of: "\n") { text = String(text[..<newline]) }
        return text
    }

    static func status(_ path: String) -> FileStatus? {
        var raw = stat()
        guard stat(path, &raw) == 0 else { return nil }
        return FileStatus(raw)
    }

    static func status(descriptor: CInt) -> FileStatus? {
        var raw = stat()
        guard fstat(descriptor, &raw) == 0 else { return nil }
        return FileStatus(raw)
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Whether `path` is an executable regular file.
    static func isExecutable(_ path: String) -> Bool {
        guard let status = status(path), status.isRegularFile else { return false }
        return access(path, X_OK) == 0
    }

    /// Finds `name` in `$PATH` (or returns it when it already contains a slash and is executable).
    static func which(_ name: String) -> String? {
        if name.contains("/") { return isExecutable(name) ? name : nil }
        let searchPath = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    /// The names in a directory, without `.` and `..`; nil when it cannot be opened.
    static func contentsOfDirectory(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Counts the entries of a directory whose names are all digits: the processes in /proc.
    static func countNumericEntries(_ path: String) -> Int? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isNumeric = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: UInt8.self, capacity: Int(NAME_MAX) + 1) { name in
                    guard name[0] != 0 else { return false }
                    var index = 0
                    while name[index] != 0 {
                        guard name[index] >= 0x30 && name[index] <= 0x39 else { return false }
                        index += 1
                    }
                    return true
                }
            }
            if isNumeric { count += 1 }
        }
        return count
    }

    /// `mkdir -p` with `mode` for the directories it creates.
    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(AgentError) {
        if let status = status(path) {
            guard status.isDirectory else { throw .io("\(path) exists and is not a directory", errno: ENOTDIR) }
            return
        }
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw .io("cannot create \(prefix)", errno: errno)
            }
        }
    }

    /// Replaces `path` atomically with `bytes`: written to a temporary file, synced, renamed over,
    /// and the directory synced, so a crash leaves either the old or the new content.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(AgentError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io("cannot create \(temporary)", errno: errno) }
        do throws(AgentError) {
            try writeAll(fd, bytes)
            guard fsync(fd) == 0 else { throw .io("cannot sync \(temporary)", errno: errno) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        // The temporary file may already have existed with other permissions.
        chmod(temporary, mode)
        guard rename(temporary, path) == 0 else {
            let saved = errno
            unlink(temporary)
            throw .io("cannot rename \(temporary) to \(path)", errno: saved)
        }
        syncDirectory(containing: path)
    }

    /// Syncs the directory entry of `path`, which makes a rename or a creation durable.
    static func syncDirectory(containing path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Writes every byte, retrying short writes and interrupted calls.
    static func writeAll(_ fd: CInt, _ bytes: [UInt8]) throws(AgentError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + written, bytes.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .io("write failed", errno: errno)
            }
            written += result
        }
    }

    /// Reads exactly `count` bytes at `offset`, fewer only at end of file.
    static func readBytes(_ fd: CInt, count: Int, at offset: Int64) throws(AgentError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .io("read failed", errno: errno)
            }
            if result == 0 { break }
            done += result
        }
        if done < count { bytes.removeSubrange(done...) }
        return bytes
    }

    static func remove(_ path: String) {
        unlink(path)
    }

    /// The target of a symbolic link (such as /proc/<pid>/ns/pid), or nil.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
