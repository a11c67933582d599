internal import DVICAgentCore
public import DVICServerCore
internal import Crypto
internal import Foundation
public import Logging
internal import NIOPosix

/// The agent builds the server hands out, for installs (the install script) and updates
/// (rollouts): signed builds uploaded into `<data>/agent-builds/<version>/` (the executable
/// `dvic-agent` and its `manifest.json`), and, when none is there, the unsigned `dvic-agent`
/// next to the server's own executable (or `--agent-binary`). It also issues and redeems the
/// one-time tokens of `GET /v1/agent/download`.
///
/// File work (manifests, hashing the fallback, renames) runs on NIO's thread pool, never on
/// the cooperative threads. "Newest" means most recently uploaded: versions are free-form
/// (tests stamp `0.1.0-b`), so their order is the operator's, not a version comparison's.
public actor AgentBuilds {
    /// Why an upload was refused or a build could not be stored.
    public struct BuildError: Error, Sendable, CustomStringConvertible {
        public struct Code: Sendable, Hashable {
            private enum Value: Sendable, Hashable { case unsigned, badSignature, noReleaseKey, noVersionStamp, versionMismatch, conflict, io }
            private let value: Value
            private init(_ value: Value) { self.value = value }
            /// No signature came with the upload.
            public static let unsigned = Code(.unsigned)
            /// The signature is not the release key's over the upload's SHA-256.
            public static let badSignature = Code(.badSignature)
            /// The server has no release key (`--release-key`), so it cannot accept builds.
            public static let noReleaseKey = Code(.noReleaseKey)
            /// The upload carries no agent version stamp: not a dvic-agent build.
            public static let noVersionStamp = Code(.noVersionStamp)
            /// `version=` names another version than the stamp.
            public static let versionMismatch = Code(.versionMismatch)
            /// Another build with this version is stored already.
            public static let conflict = Code(.conflict)
            public static let io = Code(.io)
        }

        public let code: Code
        public let message: String

        init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        public var description: String { message }
    }

    /// What a download token is worth.
    public enum Download: Sendable {
        case build(AgentBuild)
        case unknown
        case expired
        /// The token was good but its build is gone.
        case missing(version: String)
    }

    public nonisolated let directory: String
    /// The release public key as the install script writes it into the agent config
    /// (`release-key = <this>`): base64 of the raw 32-byte Ed25519 key. nil without
    /// `--release-key`.
    public nonisolated let releasePublicKeyText: String?
    public nonisolated let fallbackBinaryPath: String?
    private let releaseKey: ReleaseKey?
    private let clock: FleetClock
    private let logger: Logger
    private var signed: [String: AgentBuild] = [:]
    private var loaded = false
    private var fallback: (build: AgentBuild, modified: Date)?
    private var tokens = DownloadTokensCore()
    /// Versions being stored now: a second upload of one waits for no one, it is refused.
    private var storing: Set<String> = []

    /// - Parameters:
    ///   - releaseKeyText: the `--release-key` file's text (see `ReleaseKey`); an unusable one
    ///     is logged and treated as none (`dvic-server` checks it before it gets here).
    ///   - fallbackBinaryPath: nil looks for `dvic-agent` next to this executable.
    public init(directory: String, releaseKeyText: String?, fallbackBinaryPath: String?, clock: FleetClock = .system, logger: Logger) {
        self.directory = directory
        self.clock = clock
        self.logger = logger
        var key: ReleaseKey?
        if let releaseKeyText {
            do {
                key = try ReleaseKey(text: releaseKeyText)
            } catch {
                logger.error("the release key is unusable; signed builds cannot be accepted", metadata: ["error": "\(error.message)"])
            }
        }
        self.releaseKey = key
        self.releasePublicKeyText = key?.text
        self.fallbackBinaryPath = fallbackBinaryPath ?? Self.besideExecutable("dvic-agent")
    }

    /// Throws a readable message when `text` is not a release public key.
    public static func validateReleaseKey(_ text: String) throws -> String {
        do {
            return try ReleaseKey(text: text).text
        } catch {
            throw BuildError(.noReleaseKey, "--release-key: \(error.message)")
        }
    }

    static func besideExecutable(_ name: String) -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
    }

    // MARK: The interface for installs

    /// The build an install gets: the newest signed build, else the fallback binary (unsigned).
    public func installBuild() async -> AgentBuild? {
        await loadIfNeeded()
        if let newest = newestSigned() { return newest }
        return await fallbackBuild()
    }

    /// A one-time token for `GET /v1/agent/download?token=`, good for `ttl`.
    public func issueDownloadToken(version: String, ttl: Duration) async -> String {
        let token = AuthService.newToken(prefix: "dvdl_")
        let milliseconds = ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000
        tokens.issue(tokenHash: AuthService.sha256(token), version: version, now: clock.now(), ttlMilliseconds: milliseconds)
        return token
    }

    // MARK: Queries

    /// Signed builds, newest first.
    public func list() async -> [AgentBuild] {
        await loadIfNeeded()
        return signed.values.sorted { ($0.uploadedAt, $0.version) > ($1.uploadedAt, $1.version) }
    }

    public func newestSigned() -> AgentBuild? {
        signed.values.max { ($0.uploadedAt, $0.version) < ($1.uploadedAt, $1.version) }
    }

    /// A signed build by version, else the fallback when its version matches.
    public func build(version: String) async -> AgentBuild? {
        await loadIfNeeded()
        if let build = signed[version] { return build }
        if let fallback = await fallbackBuild(), fallback.version == version { return fallback }
        return nil
    }

    /// Consumes a download token.
    public func redeem(token: String) async -> Download {
        switch tokens.redeem(tokenHash: AuthService.sha256(token), now: clock.now()) {
        case .unknown: return .unknown
        case .expired: return .expired
        case .granted(let version):
            guard let build = await build(version: version) else { return .missing(version: version) }
            return .build(build)
        }
    }

    /// The unsigned binary beside the server (hashed once, again when it changes).
    public func fallbackBuild() async -> AgentBuild? {
        guard let path = fallbackBinaryPath else { return nil }
        let modified = try? await NIOThreadPool.singleton.runIfActive { try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date }
        guard let modified = modified ?? nil else { return nil }
        if let fallback, fallback.modified == modified, fallback.build.path == path { return fallback.build }
        guard let digest = try? await NIOThreadPool.singleton.runIfActive({ try Self.digestFile(path) }) else { return nil }
        let build = AgentBuild(
            version: digest.version ?? AgentVersion.current, sha256Hex: ReleaseKey.hex(digest.sha256), size: digest.size, path: path,
            signatureHex: nil)
        fallback = (build, modified)
        return build
    }

    // MARK: Uploads

    /// Where an upload is streamed before it is checked; `store` moves it into place.
    public func incomingPath() async throws -> String {
        let directory = self.directory
        try await NIOThreadPool.singleton.runIfActive {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        return "\(directory)/.incoming-\(AuthService.newToken(prefix: "").prefix(16))"
    }

    /// Checks an upload streamed to `incoming` (its SHA-256, size and stamped version measured
    /// on the way in) and stores it as a signed build. The incoming file is removed on refusal.
    public func store(
        incoming: String, sha256: [UInt8], size: Int, stampedVersion: String?, declaredVersion: String?,
        signatureHex: String?, uploadedBy: String
    ) async throws(BuildError) -> AgentBuild {
        await loadIfNeeded()
        do throws(BuildError) {
            let version = try check(sha256: sha256, stampedVersion: stampedVersion, declaredVersion: declaredVersion, signatureHex: signatureHex)
            guard storing.insert(version).inserted else {
                throw BuildError(.conflict, "version \(version) is being uploaded right now")
            }
            defer { storing.remove(version) }
            if let existing = signed[version] {
                guard existing.sha256Hex == ReleaseKey.hex(sha256) else {
                    throw BuildError(.conflict, "version \(version) is stored already with another SHA-256; stamp a new version")
                }
                await remove(incoming)
                return existing
            }
            let stored = AgentBuild(
                version: version, sha256Hex: ReleaseKey.hex(sha256), size: size,
                path: "\(directory)/\(version)/dvic-agent", signatureHex: signatureHex!.lowercased(),
                uploadedAt: clock.now(), uploadedBy: uploadedBy)
            let manifest = AgentBuild.Manifest(
                version: stored.version, sha256: stored.sha256Hex, size: size, signature: stored.signatureHex!,
                uploadedAt: stored.uploadedAt, uploadedBy: uploadedBy)
            let folder = "\(directory)/\(stored.version)"
            do {
                let data = try JSONEncoder().encode(manifest)
                try await NIOThreadPool.singleton.runIfActive {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    guard chmod(incoming, 0o755) == 0, rename(incoming, stored.path) == 0 else {
                        throw BuildError(.io, "cannot move the upload into \(folder): errno \(errno)")
                    }
                    // The manifest last: a folder without one is not a build.
                    try data.write(to: URL(fileURLWithPath: "\(folder)/manifest.json"), options: .atomic)
                }
            } catch let error as BuildError {
                throw error
            } catch {
                throw BuildError(.io, "cannot store the build: \(error)")
            }
            signed[stored.version] = stored
            logger.info("agent build stored", metadata: ["version": "\(stored.version)", "sha256": "\(stored.sha256Hex)", "size": "\(size)"])
            return stored
        } catch {
            await remove(incoming)
            throw error
        }
    }

    /// The version a checked upload gets.
    private func check(sha256: [UInt8], stampedVersion: String?, declaredVersion: String?, signatureHex: String?) throws(BuildError) -> String {
        guard let releaseKey else {
            throw BuildError(.noReleaseKey, "the server has no release key (start it with --release-key FILE), so it cannot accept signed builds")
        }
        guard let signatureHex, !signatureHex.isEmpty else {
            throw BuildError(.unsigned, "the build is unsigned; sign it with tools/sign-agent and upload the signature with it")
        }
        guard let signature = ReleaseKey.hexBytes(signatureHex), signature.count == 64 else {
            throw BuildError(.badSignature, "the signature must be 128 hex digits (64 bytes)")
        }
        guard releaseKey.isValidSignature(signature, sha256: sha256) else {
            throw BuildError(.badSignature, "the signature is not the release key's over this build's SHA-256 (tampered, or signed with another key)")
        }
        guard let stampedVersion else {
            throw BuildError(.noVersionStamp, "the file carries no agent version stamp; it is not a dvic-agent build")
        }
        if let declaredVersion, !declaredVersion.isEmpty, declaredVersion != stampedVersion {
            throw BuildError(.versionMismatch, "version \(declaredVersion) was given but the build is stamped \(stampedVersion)")
        }
        return stampedVersion
    }

    /// Removes an upload that failed on the way in.
    public func discard(_ incoming: String) async {
        await remove(incoming)
    }

    private func remove(_ path: String) async {
        _ = try? await NIOThreadPool.singleton.runIfActive { unlink(path) }
    }

    // MARK: Loading

    private func loadIfNeeded() async {
        guard !loaded else { return }
        loaded = true
        let directory = self.directory
        let manifests: [(String, AgentBuild.Manifest)]
        do {
            manifests = try await NIOThreadPool.singleton.runIfActive {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                return entries.filter { !$0.hasPrefix(".") }.compactMap { entry -> (String, AgentBuild.Manifest)? in
                    guard let data = FileManager.default.contents(atPath: "\(directory)/\(entry)/manifest.json"),
                        let manifest = try? JSONDecoder().decode(AgentBuild.Manifest.self, from: data)
                    else { return nil }
                    return (entry, manifest)
                }
            }
        } catch {
            logger.error("cannot read the agent builds", metadata: ["directory": "\(directory)", "error": "\(error)"])
            return
        }
        for (folder, manifest) in manifests {
            // A manifest whose signature no longer verifies (the release key changed) is skipped.
            guard let releaseKey, let signature = ReleaseKey.hexBytes(manifest.signature), let digest = ReleaseKey.hexBytes(manifest.sha256),
                releaseKey.isValidSignature(signature, sha256: digest)
            else {
                logger.warning("skipping an agent build not signed by the current release key", metadata: ["version": "\(manifest.version)"])
                continue
            }
            signed[manifest.version] = AgentBuild(
                version: manifest.version, sha256Hex: manifest.sha256, size: manifest.size, path: "\(directory)/\(folder)/dvic-agent",
                signatureHex: manifest.signature, uploadedAt: manifest.uploadedAt, uploadedBy: manifest.uploadedBy)
        }
    }

    /// SHA-256, size and stamped version of a file, read in 1 MiB chunks (blocking: thread pool only).
    static func digestFile(_ path: String) throws -> (sha256: [UInt8], size: Int, version: String?) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BuildError(.io, "cannot open \(path): errno \(errno)") }
        defer { close(descriptor) }
        var hasher = SHA256()
        var scanner = AgentVersionStamp.Scanner()
        var size = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw BuildError(.io, "cannot read \(path): errno \(errno)")
            }
            if count == 0 { break }
            let slice = chunk[0..<count]
            hasher.update(data: slice)
            scanner.feed(slice)
            size += count
        }
        return (Array(hasher.finalize()), size, scanner.version)
    }
}
