import DVICInstall
import Foundation
import Testing

@Suite struct InstallOutputScannerTests {
    @Test func stepsAcrossChunkBoundariesInOrder() {
        var scanner = InstallOutputScanner()
        var steps: [String] = []
        let text = "hello\nDVIC-STEP downloading dvic-agent 1.0 from http://s\nDVIC-STEP installed in /usr/local/bin\nDVIC-STEP started pid 42\n"
        // Byte by byte: a marker split over chunks is still one step.
        for byte in text.utf8 { steps += scanner.feed([byte], from: .stdout).map(\.step) }
        #expect(steps == ["downloading", "installed", "started"])
        #expect(scanner.steps.map(\.message) == ["dvic-agent 1.0 from http://s", "in /usr/local/bin", "pid 42"])
        #expect(scanner.verdict(exitStatus: 0) == nil)
    }

    @Test func failMarkerWinsOverTheExitStatus() {
        var scanner = InstallOutputScanner()
        _ = scanner.feed(Array("DVIC-STEP downloading x\nDVIC-FAIL download_failed the SHA-256 is abc, expected def\ndvic install: …\n".utf8), from: .stderr)
        let verdict = scanner.verdict(exitStatus: 1)
        #expect(verdict?.code == .downloadFailed)
        #expect(verdict?.message == "the SHA-256 is abc, expected def")
    }

    @Test func unknownFailNameIsAnInstallFailure() {
        var scanner = InstallOutputScanner()
        _ = scanner.feed(Array("DVIC-FAIL nonsense something broke\n".utf8), from: .stderr)
        #expect(scanner.verdict(exitStatus: 1)?.code == .installFailed)
    }

    @Test(arguments: [
        "dvicn1 is not in the sudoers file.  This incident will be reported.",
        "sh: 1: sudo: not found",
        "sudo: a password is required",
        "sudo: 1 incorrect password attempt",
        "Sorry, user pi is not allowed to execute '/bin/sh x' as root on host.".replacingOccurrences(of: "Sorry", with: "sudo: Sorry"),
    ])
    func sudoComplaintsAreNoSudo(line: String) {
        var scanner = InstallOutputScanner()
        _ = scanner.feed(Array((line + "\n").utf8), from: .stderr)
        #expect(scanner.verdict(exitStatus: 1)?.code == .noSudo)
    }

    @Test func otherFailuresQuoteTheLastStderrLine() {
        var scanner = InstallOutputScanner()
        _ = scanner.feed(Array("first\nmkdir: cannot create directory '/x': Permission denied".utf8), from: .stderr)
        _ = scanner.finish()
        let verdict = scanner.verdict(exitStatus: 2)
        #expect(verdict?.code == .installFailed)
        #expect(verdict?.message == "the install command exited with status 2: mkdir: cannot create directory '/x': Permission denied")
        #expect(scanner.verdict(exitStatus: nil)?.message.contains("without an exit status") == true)
    }

    @Test func hostileOutputIsBounded() {
        var scanner = InstallOutputScanner()
        // A megabyte without a newline, then thousands of lines: memory stays bounded.
        _ = scanner.feed([UInt8](repeating: 0x41, count: 1 << 20), from: .stderr)
        for _ in 0..<5000 { _ = scanner.feed(Array("noise line\n".utf8), from: .stderr) }
        #expect(scanner.stderrTail.count <= 8)
        #expect(scanner.stderrTail.allSatisfy { $0.utf8.count <= InstallOutputScanner.maxLineBytes })
        // Invalid UTF-8 and a marker without a step do not crash or count.
        _ = scanner.feed([0xFF, 0xFE, 0x0A] + Array("DVIC-STEP \n".utf8), from: .stdout)
        #expect(scanner.steps.isEmpty)
    }
}
