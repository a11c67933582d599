import Crypto
@testable import DVICAgentCore
import Foundation
import Testing

/// Release keys, build signatures, the version stamp and the update markers.
@Suite struct UpdateVerificationTests {
    let key = Curve25519.Signing.PrivateKey()
    let build: [UInt8] = Array("#!/bin/true\nsome agent bytes".utf8)

    var digest: [UInt8] { Array(SHA256.hash(data: build)) }
    var releaseKey: ReleaseKey { try! ReleaseKey(raw: Array(key.publicKey.rawRepresentation)) }

    @Test func theReleaseKeysSignatureOverTheDigestVerifies() throws {
        let signature = Array(try key.signature(for: digest))
        try releaseKey.verify(digest: digest, expectedSHA256: digest, signature: signature)
        #expect(releaseKey.isValidSignature(signature, sha256: digest))
    }

    @Test func tamperedBytesWrongKeysAndBadSignaturesAreRefused() throws {
        let signature = Array(try key.signature(for: digest))
        // The bytes changed: their hash is not the offer's.
        var tampered = build
        tampered[3] ^= 1
        let tamperedDigest = Array(SHA256.hash(data: tampered))
        #expect(throws: UpdateError.self) { try releaseKey.verify(digest: tamperedDigest, expectedSHA256: digest, signature: signature) }
        do {
            try releaseKey.verify(digest: tamperedDigest, expectedSHA256: digest, signature: signature)
        } catch {
            #expect(error.code == .hashMismatch)
        }
        // Hash and offer agree, but the signature is another key's (a build signed by someone else).
        let other = Curve25519.Signing.PrivateKey()
        let foreign = Array(try other.signature(for: tamperedDigest))
        do {
            try releaseKey.verify(digest: tamperedDigest, expectedSHA256: tamperedDigest, signature: foreign)
            Issue.record("a foreign signature verified")
        } catch {
            #expect(error.code == .badSignature)
        }
        // The signature of the original does not cover the tampered build.
        #expect(!releaseKey.isValidSignature(signature, sha256: tamperedDigest))
        // Unsigned (empty), short, or flipped signatures.
        #expect(!releaseKey.isValidSignature([], sha256: digest))
        #expect(!releaseKey.isValidSignature(Array(signature.prefix(63)), sha256: digest))
        var flipped = signature
        flipped[10] ^= 0x80
        #expect(!releaseKey.isValidSignature(flipped, sha256: digest))
    }

    @Test func releaseKeyTextForms() throws {
        let raw = Array(key.publicKey.rawRepresentation)
        let base64 = Data(raw).base64EncodedString()
        #expect(try ReleaseKey(text: base64).rawRepresentation == raw)
        #expect(try ReleaseKey(text: "  \(base64)\n").text == base64)
        #expect(try ReleaseKey(text: ReleaseKey.hex(raw)).rawRepresentation == raw)
        // What `openssl pkey -pubout` writes.
        let der = Data(ReleaseKey.spkiPrefix + raw).base64EncodedString()
        let pem = "-----BEGIN PUBLIC KEY-----\n\(der)\n-----END PUBLIC KEY-----\n"
        #expect(try ReleaseKey(text: pem).rawRepresentation == raw)
        #expect(throws: UpdateError.self) { try ReleaseKey(text: "not a key") }
        #expect(throws: UpdateError.self) { try ReleaseKey(text: Data([1, 2, 3]).base64EncodedString()) }
    }

    @Test func theVersionStampIsReadPatchedAndFoundAcrossChunks() throws {
        #expect(AgentVersion.current == "0.1.0")
        let stamp = AgentVersionStamp.stamp.withUTF8Buffer { Array($0) }
        #expect(stamp.count == AgentVersionStamp.length)
        let file = [UInt8](repeating: 7, count: 1000) + stamp + [UInt8](repeating: 9, count: 500)
        #expect(AgentVersionStamp.version(in: file) == "0.1.0")
        let patched = try #require(AgentVersionStamp.patched(file, version: "0.1.0-b"))
        #expect(patched.count == file.count)
        #expect(AgentVersionStamp.version(in: patched) == "0.1.0-b")
        #expect(AgentVersionStamp.patched(file, version: "bad version") == nil)
        #expect(AgentVersionStamp.patched([1, 2, 3], version: "1.0") == nil)
        // Fed in chunks that split the stamp.
        for split in [1, 1010, 1020, 1063] {
            var scanner = AgentVersionStamp.Scanner()
            scanner.feed(patched[0..<split])
            scanner.feed(patched[split...])
            #expect(scanner.version == "0.1.0-b", "split at \(split)")
        }
        var none = AgentVersionStamp.Scanner()
        none.feed([UInt8](repeating: 1, count: 200))
        #expect(none.version == nil)
    }

    @Test func updateMarkersRoundTrip() {
        let marker = UpdateMarker(
            version: "0.1.0-b", executable: "/usr/local/bin/dvic-agent", backup: "/usr/local/bin/dvic-agent.previous", reason: "two\nlines",
            arguments: ["--server", "http://a:8080", "--tag", "x=y"])
        let read = UpdateMarker(text: marker.text)
        #expect(read?.version == "0.1.0-b")
        #expect(read?.backup == marker.backup)
        #expect(read?.reason == "two lines")
        #expect(read?.arguments == ["--server", "http://a:8080", "--tag", "x=y"])
        #expect(UpdateMarker(text: "garbage") == nil)
    }
}
