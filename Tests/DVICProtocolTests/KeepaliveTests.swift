import DVICProtocol
import Foundation
import Testing

/// Holds the JSON compatibility codec to `Spec/vectors/keepalive/`.
@Suite struct KeepaliveTests {
    static let vectors: [SpecVectors.KeepaliveVector] = (try? SpecVectors.keepalives()) ?? []

    @Test func vectorsArePresent() throws {
        #expect(try SpecVectors.keepalives().count >= 10)
    }

    @Test(arguments: vectors)
    func vector(_ vector: SpecVectors.KeepaliveVector) throws {
        var body = Array(vector.body.utf8)
        if let padTo = vector.padTo { body += Array(repeating: 0x20, count: max(0, padTo - body.count)) }
        do {
            let keepalive = try Keepalive.decode(body)
            #expect(vector.error == nil, "\(vector.name) decoded but should fail with \(vector.error ?? "")")
            #expect(keepalive.messages(receivedAt: vector.receivedAt, firstLogSeq: vector.firstLogSeq) == vector.messages)
        } catch {
            #expect(error.name == vector.error, "\(vector.name): \(error)")
            #expect(error.httpStatus == vector.status)
        }
    }

    /// The messages the JSON codec makes go through the binary codec unchanged.
    @Test func keepaliveMessagesSurviveTheBinaryCodec() throws {
        let body = #"{"uptime_ms": 5000, "metrics": {"temp_c": 41.5, "rssi_dbm": -61}, "logs": [{"level": "warn", "msg": "low heap"}]}"#
        let messages = try Keepalive.decode(Array(body.utf8)).messages(receivedAt: 1_795_867_200_000, firstLogSeq: 7)
        var encoder = try FrameEncoder()
        var decoder = FrameDecoder()
        #expect(try decoder.decode(message: try encoder.encode(messages)) == messages)
    }
}

extension SpecVectors.KeepaliveVector: CustomTestStringConvertible {
    var testDescription: String { name }
}
