#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import DVICLogFormat

/// The system calls behind `DVICLog`, kept apart so that the class reads as policy.
enum FileOutput {
    /// Draws of a new token before giving up on `EEXIST` (Spec/logfile.md §2).
    static let creationAttempts = 100

    /// A log file that was created and given its header.
    struct CreatedFile: Sendable, Equatable {
        var descriptor: Int32
        var path: String
        var token: String
        var headerBytes: Int
    }

    /// Why a file could not be created or written: what the fallback notice prints.
    struct Failure: Error, Sendable, Equatable {
        var path: String
        /// The system's error text, such as `Permission denied`.
        var reason: String
    }

    /// Creates `dvic_log_<fresh token>` in the directory and writes the header line (newline
    /// included) to it with one `write()`.
    ///
    /// `O_EXCL` so that a writer never appends to a file it did not create; on a token collision
    /// it draws again.
    static func create(settings: DVICLogSettings, headerLine: [UInt8]) -> Result<CreatedFile, Failure> {
        var failure = Failure(path: settings.directory, reason: describe(EEXIST))
        for _ in 0..<creationAttempts {
            let token = LogFileName.randomToken()
            let path = settings.path(forFileName: LogFileName.fileName(token: token))
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                let errorNumber = errno
                failure = Failure(path: path, reason: describe(errorNumber))
                if errorNumber == EEXIST { continue }
                return .failure(failure)
            }
            if let reason = writeOnce(descriptor, headerLine) {
                _ = close(descriptor)
                // A file without its header is no demo log: leave none behind.
                _ = unlink(path)
                return .failure(Failure(path: path, reason: reason))
            }
            return .success(CreatedFile(descriptor: descriptor, path: path, token: token, headerBytes: headerLine.count))
        }
        return .failure(failure)
    }

    /// Hands `bytes` to the kernel with one `write()`, so that with `O_APPEND` the line lands whole
    /// and never interleaves with another writer's. Returns why it failed, or nil.
    ///
    /// A short write (disk full, a size limit) counts as a failure rather than being completed by a
    /// second call, which could put another process's line in the middle of this one.
    static func writeOnce(_ descriptor: Int32, _ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { raw in
            while true {
                let written = write(descriptor, raw.baseAddress, raw.count)
                if written == raw.count { return nil }
                if written < 0 {
                    let errorNumber = errno
                    if errorNumber == EINTR { continue }
                    return describe(errorNumber)
                }
                return "short write (\(written) of \(raw.count) bytes)"
            }
        }
    }

    /// Writes to stderr (or the descriptor standing in for it) without letting a closed pipe's
    /// SIGPIPE kill the host program: the signal is blocked on this thread for the write, and one
    /// that the write raised is taken back before unblocking. A pipe may take a long line in
    /// several writes; that is fine for a terminal or a pipe nobody else writes lines into.
    static func writeToStandardError(_ descriptor: Int32, _ bytes: [UInt8]) {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGPIPE)
        var previous = sigset_t()
        guard pthread_sigmask(SIG_BLOCK, &blocked, &previous) == 0 else {
            _ = writeAll(descriptor, bytes)
            return
        }
        var pendingBefore = sigset_t()
        sigpending(&pendingBefore)
        let wasPending = sigismember(&pendingBefore, SIGPIPE) == 1
        let errorNumber = writeAll(descriptor, bytes)
        if errorNumber == EPIPE, !wasPending {
            var timeout = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&blocked, nil, &timeout)
        }
        _ = pthread_sigmask(SIG_SETMASK, &previous, nil)
    }

    /// Writes all of `bytes`, over several calls if need be; returns errno on failure.
    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let written = write(descriptor, raw.baseAddress! + done, raw.count - done)
                if written > 0 {
                    done += written
                } else if written < 0, errno == EINTR {
                    continue
                } else {
                    return written == 0 ? EIO : errno
                }
            }
            return nil
        }
    }

    static func closeFile(_ descriptor: Int32) {
        _ = close(descriptor)
    }

    static func describe(_ errorNumber: Int32) -> String {
        guard let text = strerror(errorNumber) else { return "error \(errorNumber)" }
        return String(cString: text)
    }
}
