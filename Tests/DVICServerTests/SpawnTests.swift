import DVICTesting
import Foundation
import Glibc
import Testing

/// The harness's children start with nothing but stdin, stdout and stderr. NIO's sockets are not
/// close-on-exec, and a child that inherited a test's connection kept it open after the test
/// closed it: a server did not see an agent go for as long as that child ran.
@Suite struct SpawnTests {
    @Test func aChildInheritsOnlyTheStandardDescriptors() async throws {
        // A descriptor without close-on-exec, as NIO's sockets are.
        var leaky: [Int32] = [0, 0]
        #expect(Glibc.pipe(&leaky) == 0)
        defer { for fd in leaky { close(fd) } }
        #expect(fcntl(leaky[0], F_GETFD) & FD_CLOEXEC == 0)

        let output = try Spawn.pipe()
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        // The shell lists its own descriptors (`$$`), not those of a child of its own.
        let pid = try Spawn.start("/bin/sh", ["-c", "ls /proc/$$/fd"], environment: [:], stdin: null, stdout: output.write, stderr: null)
        close(output.write)
        var text = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(output.read, &buffer, buffer.count)
            if count <= 0 { break }
            text.append(contentsOf: buffer[0..<count])
        }
        close(output.read)
        #expect(await Spawn.wait(pid, timeout: .seconds(10)) == 0)
        let descriptors = Set(String(decoding: text, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { Int32($0) })
        #expect(descriptors.isSuperset(of: [0, 1, 2]))
        #expect(!descriptors.contains(leaky[0]) && !descriptors.contains(leaky[1]), "the child held \(descriptors.sorted())")
    }
}
