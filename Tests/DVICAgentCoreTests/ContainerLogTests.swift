import DVICProtocol
import Foundation
import Testing

@testable import DVICAgentCore

@Suite("Containers: demo logs through /proc/<pid>/root/tmp")
struct ContainerLogTests {
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")))
    func readsThroughAPrivateTmp() async throws {
        let token = "CoNtAiNeR\(Int.random(in: 1_000_000...9_999_999))"
        // A process with a /tmp of its own (a private mount namespace): the file is not on the
        // host's /tmp, only inside, as in a container.
        let script = """
            mount -t tmpfs tmpfs /tmp || exit 1
            started=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
            printf '{"dvic_log": 1, "pid": %d, "exe": "/bin/sh", "argv": ["sh"], "user": "root", "name": "boxed", "started": "%s"}\\n' $$ "$started" > /tmp/dvic_log_\(token)
            printf '2026-11-28T10:00:00.000Z WARN inside the box\\n' >> /tmp/dvic_log_\(token)
            exec sleep 1000
            """
        let child = try ChildProcess.spawn(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
        closeDescriptor(child.stdout)
        closeDescriptor(child.stderr)
        defer {
            kill(child.pid, SIGKILL)
            _ = ChildProcess.reap(child.pid)
        }
        #expect(await eventually { FileManager.default.fileExists(atPath: "/proc/\(child.pid)/root/tmp/dvic_log_\(token)") })
        #expect(!FileManager.default.fileExists(atPath: "/tmp/dvic_log_\(token)"))

        let sources = ContainerLogSources { _ in .fresh }
        let id = "0123456789abcdef0123456789abcdef"
        sources.update(running: [(id: id, pid: child.pid)])
        var chunks: [LogChunk] = []
        var processes: [DemoProcess] = []
        let read = await eventually {
            let result = await sources.poll(now: WallClock.milliseconds(), stopped: [])
            chunks += result.chunks
            processes = sources.processes
            return !chunks.isEmpty && processes.first?.state == .running
        }
        #expect(read)
        #expect(chunks.first?.info.key == "container:0123456789ab:\(token)")
        #expect(chunks.first?.info.source == .container)
        #expect(chunks.first?.info.container == "0123456789ab")
        #expect(chunks.first?.info.name == "boxed")
        #expect(chunks.first?.records.map(\.text) == ["inside the box"])
        #expect(chunks.first?.records.first?.severity == .warn)
        #expect(processes.first?.key == "container:0123456789ab:\(token)")

        // The container stops: its demo exits, its directory and streams go.
        kill(child.pid, SIGKILL)
        _ = await ChildProcess.wait(for: child.pid)
        var gone: [String] = []
        let ended = await eventually {
            let result = await sources.poll(now: WallClock.milliseconds(), stopped: ["0123456789ab"])
            gone += result.goneKeys
            return !gone.isEmpty
        }
        #expect(ended)
        #expect(gone == ["container:0123456789ab:\(token)"])
        #expect(sources.followedContainers.isEmpty)
    }
}
