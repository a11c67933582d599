#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a log goes and how large its files grow: the caller's arguments first, then the
/// environment every demo library honours, then the defaults.
struct DVICLogSettings: Sendable, Equatable {
    static let defaultDirectory = "/tmp"
    static let defaultMaxBytes = 16 * 1024 * 1024

    var directory: String
    var maxBytes: Int

    init(directory: String?, maxBytes: Int?, environment: [String: String]) {
        if let directory, !directory.isEmpty {
            self.directory = directory
        } else if let fromEnvironment = environment["DVIC_LOG_DIR"], !fromEnvironment.isEmpty {
            self.directory = fromEnvironment
        } else {
            self.directory = Self.defaultDirectory
        }
        if let maxBytes, maxBytes > 0 {
            self.maxBytes = maxBytes
        } else if let text = environment["DVIC_LOG_MAX_BYTES"],
            let fromEnvironment = Int(text.trimmingPrefixAndSuffixSpaces()), fromEnvironment > 0
        {
            self.maxBytes = fromEnvironment
        } else {
            // A bad value must not stop the demo: the default is the safe reading.
            self.maxBytes = Self.defaultMaxBytes
        }
    }

    /// The two variables this library reads, from the process environment.
    static func processEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        for key in ["DVIC_LOG_DIR", "DVIC_LOG_MAX_BYTES"] {
            if let value = getenv(key) {
                environment[key] = String(cString: value)
            }
        }
        return environment
    }

    /// `<directory>/<file name>`, without doubling a trailing slash.
    func path(forFileName fileName: String) -> String {
        directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
    }
}

extension String {
    fileprivate func trimmingPrefixAndSuffixSpaces() -> Substring {
        let trimmed = drop(while: { $0 == " " || $0 == "\t" })
        return trimmed.dropLast(trimmed.reversed().prefix(while: { $0 == " " || $0 == "\t" }).count)
    }
}
