internal import Foundation

/// What `dvic login` saves: `~/.config/dvic/config.json`, mode 0600 (its folder 0700).
/// `$HOME` decides where `~` is, so tests can point it at a temporary folder.
public struct CLIConfig: Codable, Hashable, Sendable {
    public var server: String?
    public var token: String?
    public var user: String?

    public init(server: String? = nil, token: String? = nil, user: String? = nil) {
        self.server = server
        self.token = token
        self.user = user
    }

    /// `$HOME/.config/dvic/config.json`; nil when no home is known.
    public static func path(environment: [String: String]) -> String? {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        guard !home.isEmpty else { return nil }
        return home + "/.config/dvic/config.json"
    }

    /// The saved configuration; an empty one when there is no file.
    public static func load(path: String) throws(CLIError) -> CLIConfig {
        guard FileManager.default.fileExists(atPath: path) else { return CLIConfig() }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode(CLIConfig.self, from: data)
        } catch {
            throw .usage("cannot read \(path): \(error.localizedDescription); fix it or run `dvic login` again")
        }
    }

    /// Writes atomically with mode 0600, so the token is never readable by others,
    /// not even for a moment.
    public func save(path: String) throws(CLIError) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(self) + Data("\n".utf8)
            let temporary = path + ".tmp-\(getpid())"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { throw CLIError.usage("cannot write \(temporary): \(String(cString: strerror(errno)))") }
            _ = fchmod(fd, 0o600)
            let written = data.withUnsafeBytes { bytes -> Int in
                var offset = 0
                while offset < bytes.count {
                    let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if count < 0 {
                        if errno == EINTR { continue }
                        return -1
                    }
                    offset += count
                }
                return offset
            }
            close(fd)
            guard written == data.count, rename(temporary, path) == 0 else {
                unlink(temporary)
                throw CLIError.usage("cannot write \(path): \(String(cString: strerror(errno)))")
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw .usage("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
