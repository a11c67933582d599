import DVICProtocol
import NIOCore

// libFuzzer entry point. Built by `tools/fuzz` with `--sanitize=fuzzer`, where
// libFuzzer supplies `main`; in an ordinary build this file only has to compile.
//
// The first input byte picks the decoder's configuration, so one target covers both
// a stream decoder (NIO byte-to-message path) and whole WebSocket messages.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtocol(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let mode = start.load(as: UInt8.self)
    let bytes = UnsafeRawBufferPointer(start: start + 1, count: count - 1)
    var buffer = ByteBuffer(bytes: bytes)
    var decoder = FrameDecoder()
    if mode & 1 == 0 {
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

/// Whatever decodes must encode again and decode to the same message; a mismatch
/// is a codec bug, so it traps for libFuzzer to report.
private func roundTrip(_ message: Message) {
    // Metric messages depend on connection state; their round trip is covered by tests.
    if case .metricSample = message { return }
    if case .metricDescriptors = message { return }
    do {
        var encoder = try FrameEncoder(compression: nil)
        var buffer = ByteBuffer()
        try encoder.encode(message, into: &buffer)
        var decoder = FrameDecoder()
        guard let again = try decoder.decodeFrame(&buffer), again == message else {
            fatalError("round trip changed a \(message.type.name) message")
        }
    } catch {
        fatalError("a decoded \(message.type.name) message failed to encode: \(error)")
    }
}
