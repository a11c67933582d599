import DVICProtocol
import NIOCore

// libFuzzer entry point. Built by `tools/fuzz` with `--sanitize=fuzzer`, where
// libFuzzer supplies `main`; in an ordinary build this file only has to compile.
//
// The first input byte picks what is fuzzed, so one target covers the stream decoder
// (NIO byte-to-message path), whole WebSocket messages, and the keepalive JSON codec.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtocol(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let mode = start.load(as: UInt8.self)
    let bytes = UnsafeRawBufferPointer(start: start + 1, count: count - 1)
    var buffer = ByteBuffer(bytes: bytes)
    var decoder = FrameDecoder()
    if mode & 3 == 2 {
        if let keepalive = try? Keepalive.decode(Array(bytes)) {
            keepalive.messages(receivedAt: 0, firstLogSeq: 1).forEach(roundTrip)
        }
    } else if mode & 1 == 0 {
        while true {
            do {
                guard let message = try decoder.decodeFrame(&buffer) else { break }
                roundTrip(message)
            } catch where error.isRecoverable {
                continue
            } catch {
                break
            }
        }
    } else {
        if let messages = try? decoder.decode(message: buffer) {
            messages.forEach(roundTrip)
        }
    }
    return 0
}

/// Whatever decodes must encode, and decoding that encoding and encoding again must
/// give the same bytes; a difference is a codec bug, so it traps for libFuzzer.
/// (Bytes, not messages, are compared: a NaN in an f64 field never equals itself.)
private func roundTrip(_ message: Message) {
    // Metric messages depend on connection state; their round trip is covered by tests.
    if case .metricSample = message { return }
    if case .metricDescriptors = message { return }
    do {
        let first = try encode(message)
        var decoder = FrameDecoder()
        var buffer = first
        guard let again = try decoder.decodeFrame(&buffer), buffer.readableBytes == 0 else {
            fatalError("a re-encoded \(message.type.name) message does not decode as one frame")
        }
        guard try encode(again) == first else {
            fatalError("round trip changed a \(message.type.name) message")
        }
    } catch {
        fatalError("a decoded \(message.type.name) message failed to encode or re-decode: \(error)")
    }
}

private func encode(_ message: Message) throws(ProtocolError) -> ByteBuffer {
    var encoder = try FrameEncoder(compression: nil)
    var buffer = ByteBuffer()
    try encoder.encode(message, into: &buffer)
    return buffer
}
