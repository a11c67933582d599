#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the header says about the writing process.
struct ProcessIdentity: Sendable, Equatable {
    /// The header keeps `argv` elements only up to this many bytes in all (Spec/logfile.md §3).
    static let argvBudget = 32 * 1024

    var pid: Int32
    var exe: String
    var argv: [String]
    var user: String

    /// The current process. Every part has a fallback: a missing detail must not stop the log.
    static func current() -> ProcessIdentity {
        ProcessIdentity(
            pid: Int32(getpid()),
            exe: executablePath() ?? "",
            argv: limited(CommandLine.arguments),
            user: userName(of: geteuid())
        )
    }

    /// The program's base name, for a log opened without a name.
    static func programName() -> String? {
        let candidates = [CommandLine.arguments.first ?? "", executablePath() ?? ""]
        for candidate in candidates {
            if let base = candidate.split(separator: "/").last, !base.isEmpty {
                return String(base)
            }
        }
        return nil
    }

    /// The leading arguments that fit the budget together; the rest are dropped.
    static func limited(_ arguments: [String]) -> [String] {
        var used = 0
        var kept: [String] = []
        for argument in arguments {
            used += argument.utf8.count
            if used > argvBudget { break }
            kept.append(argument)
        }
        return kept
    }

    /// `/proc/self/exe`: the real binary, whatever argv[0] says.
    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count)
        guard length > 0, length < buffer.count else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The login name of `uid`, or the number when the user database has no entry (containers).
    static func userName(of uid: uid_t) -> String {
        // getpwuid_r rather than getpwuid: the host program may look users up on other threads.
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard status == 0, let found = result, let name = found.pointee.pw_name, name.pointee != 0 else {
            return String(uid)
        }
        return String(cString: name)
    }
}
