import Foundation

/// A child process whose output (stdout and stderr together) is collected in a file, so that a
/// chatty child can never block on a full pipe.
enum ChildProcess {
    struct Result {
        var status: Int32
        var output: String
    }

    static func run(
        _ executable: String, arguments: [String], directory: URL, timeout: Duration
    ) async throws -> Result {
        let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: logURL) }
        let logHandle = try FileHandle(forWritingTo: logURL)
        defer { try? logHandle.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()

        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                process.waitUntilExit()
                let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
                return Result(status: -1, output: output + "\n(killed after \(timeout))")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        process.waitUntilExit()
        let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return Result(status: process.terminationStatus, output: output)
    }
}
