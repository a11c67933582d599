import Foundation
import Logging
import Testing
import DVICProtocol

@testable import DVICAgentCore

/// A fresh directory under /tmp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "dvic-agent-test") {
        var template = Array("/tmp/\(label).XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        path = String(cString: result!)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: file(name)))
    }

    func append(_ name: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file(name)))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Waits until `condition` holds, checking every 20 ms, for at most `seconds`; returns whether it
/// held. Tests wait on conditions, never on fixed sleeps.
func eventually(within seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return try await condition()
}

/// Collects emitted protocol messages from commands and terminals.
actor MessageCollector {
    private(set) var messages: [DVICProtocol.Message] = []

    func append(_ new: [DVICProtocol.Message]) { messages += new }

    nonisolated var emit: @Sendable ([DVICProtocol.Message]) async -> Void {
        { [self] new in await self.append(new) }
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "dvic-agent-test")
    logger.logLevel = .critical
    return logger
}()

/// A demo log header line for `pid`, started at `started` (milliseconds).
func headerLine(pid: Int32, name: String = "test-demo", started: Int64, prev: String? = nil) -> String {
    var header = "{\"dvic_log\": 1, \"pid\": \(pid), \"exe\": \"/bin/sh\", \"argv\": [\"sh\"], \"user\": \"root\", \"name\": \"\(name)\", \"started\": \"\(isoTimestamp(started))\""
    if let prev { header += ", \"prev\": \"\(prev)\"" }
    return header + "}\n"
}

func isoTimestamp(_ milliseconds: Int64) -> String {
    WallClock.rfc3339(milliseconds: milliseconds)
}

/// A record line at `milliseconds`.
func recordLine(_ message: String, level: String = "INFO", at milliseconds: Int64 = 1_764_324_000_000) -> String {
    "\(isoTimestamp(milliseconds)) \(level) \(message)\n"
}
