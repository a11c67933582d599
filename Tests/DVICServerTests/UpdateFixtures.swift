import Crypto
import DVICTesting
import Foundation

/// Agent builds for the update tests: stamped with a version (as `AgentVersionStamp` lays
/// the stamp out: marker, version, NUL padding to 64 bytes) and signed with a release key.
struct ReleaseSigner {
    let key = Curve25519.Signing.PrivateKey()

    /// What `--release-key` and the agent's `release-key` take: base64 of the raw public key.
    var publicKeyText: String { key.publicKey.rawRepresentation.base64EncodedString() }

    func signatureHex(_ bytes: Data) throws -> String {
        let digest = Data(SHA256.hash(data: bytes))
        return try key.signature(for: digest).map { String(format: "%02x", $0) }.joined()
    }

    static let marker = Data("DVIC-AGENT-VERSION:".utf8)

    static func stamp(_ version: String) -> Data {
        var stamp = marker + Data(version.utf8)
        stamp += Data(count: 64 - stamp.count)
        return stamp
    }

    /// `bytes` with its version stamp rewritten (the real executable's stamp, in place).
    static func restamp(_ bytes: Data, version: String) throws -> Data {
        guard let range = bytes.range(of: marker) else { throw HarnessError("no version stamp") }
        var copy = bytes
        copy.replaceSubrange(range.lowerBound..<(range.lowerBound + 64), with: stamp(version))
        return copy
    }

    /// A tiny "build": a shell script that exits with `status`, stamped with `version`.
    static func script(version: String, status: Int) -> Data {
        Data("#!/bin/sh\nexit \(status)\n".utf8) + stamp(version)
    }

    func upload(_ bytes: Data, client: APIClient, signature: String?? = nil) async throws -> APIClient.Reply {
        let signatureHex = try signature ?? signatureHex(bytes)
        let query = signatureHex.map { "?signature=\($0)" } ?? ""
        return try await client.send("POST", "/v1/agent/builds\(query)", body: bytes, headers: ["Content-Type": "application/octet-stream"])
    }
}
