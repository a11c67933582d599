import DVICTesting
import Foundation
import Synchronization

/// A child process whose stdout and stderr are read as they come (by a thread each,
/// so a chatty child never blocks on a full pipe), with waits that time out.
final class ChildProcess: Sendable {
    let pid: pid_t
    private let output = Mutex<[UInt8]>([])
    private let errors = Mutex<[UInt8]>([])
    private let readersDone = Mutex(0)
    private let status = Mutex<Int32?>(nil)

    init(executable: String, arguments: [String], environment: [String: String], stdin: String? = nil) throws {
        let outPipe = try Spawn.pipe()
        let errPipe = try Spawn.pipe()
        let inPipe = try Spawn.pipe()
        defer {
            close(outPipe.write)
            close(errPipe.write)
            close(inPipe.read)
        }
        pid = try Spawn.start(executable, arguments, environment: environment, stdin: inPipe.read, stdout: outPipe.write, stderr: errPipe.write)
        if let stdin {
            var bytes = Array(stdin.utf8)
            _ = write(inPipe.write, &bytes, bytes.count)
        }
        close(inPipe.write)
        startReader(outPipe.read, isOutput: true)
        startReader(errPipe.read, isOutput: false)
    }

    private func startReader(_ fd: Int32, isOutput: Bool) {
        let thread = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                if count > 0 {
                    let bytes = Array(chunk[0..<count])
                    if isOutput { output.withLock { $0 += bytes } } else { errors.withLock { $0 += bytes } }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
            readersDone.withLock { $0 += 1 }
        }
        thread.start()
    }

    var stdout: String { output.withLock { String(decoding: $0, as: UTF8.self) } }
    var stderr: String { errors.withLock { String(decoding: $0, as: UTF8.self) } }
    var isRunning: Bool {
        if status.withLock({ $0 }) != nil { return false }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        guard result == pid else { return result == 0 }
        let signal = raw & 0x7F
        status.withLock { $0 = signal == 0 ? (raw >> 8) & 0xFF : 128 + signal }
        return false
    }

    /// Waits until stdout contains `text`; false on timeout or when the child ended without it.
    func waitForOutput(_ text: String, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if stdout.contains(text) { return true }
            if !isRunning {
                try? await Task.sleep(for: .milliseconds(100))
                return stdout.contains(text)
            }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    /// The exit status (128 + signal when killed by one), once the output is read;
    /// nil when it is still running after `timeout` (it is then killed).
    func wait(timeout: Duration = .seconds(60)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                _ = await Spawn.wait(pid, timeout: .seconds(5))
                return nil
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let readDeadline = ContinuousClock.now + .seconds(5)
        while readersDone.withLock({ $0 }) < 2 && ContinuousClock.now < readDeadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return status.withLock { $0 }
    }

    func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }
}
