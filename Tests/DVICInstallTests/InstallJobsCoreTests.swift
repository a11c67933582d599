import DVICProtocol
import DVICServerCore
import Testing

@Suite struct InstallJobsCoreTests {
    static func job(_ id: String = "inst-1", via: String = "n-src", deadline: Int64 = 300_000) -> InstallJobsCore.Job {
        InstallJobsCore.Job(
            id: id, host: "10.0.0.5", port: 22, user: "pi", via: via, name: "pi-cam", tags: ["lab"], createdBy: "admin",
            createdAt: 0, deadline: deadline, enrollmentTokenHash: Array(id.utf8))
    }

    @Test func walksThePlanAndSucceedsWhenTheNodeIsOnline() {
        var core = InstallJobsCore()
        _ = core.start(Self.job(), recordHostKey: true)
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMo9"
        var directives = core.progress(jobID: "inst-1", from: "n-src", step: "connecting", message: "", hostKey: "", failure: "", finished: false, now: 1)
        directives += core.progress(jobID: "inst-1", from: "n-src", step: "authenticated", message: "ok", hostKey: key, failure: "", finished: false, now: 2)
        #expect(directives.contains(.recordHostKey(host: "10.0.0.5", port: 22, key: key)))
        for step in ["downloading", "installed", "started"] {
            _ = core.progress(jobID: "inst-1", from: "n-src", step: step, message: step, hostKey: key, failure: "", finished: false, now: 3)
        }
        _ = core.progress(jobID: "inst-1", from: "n-src", step: "", message: "done", hostKey: key, failure: "", finished: true, now: 4)
        #expect(core.job("inst-1")?.state == .running)
        #expect(core.job("inst-1")?.done == 5)
        core.enrolled(tokenHash: Array("inst-1".utf8), nodeID: "n-new")
        let online = core.online(nodeID: "n-new", name: "pi-cam", now: 5)
        #expect(core.job("inst-1")?.state == .succeeded)
        #expect(core.job("inst-1")?.done == 6)
        guard case .publish(let progress)? = online.first else {
            Issue.record("no progress published")
            return
        }
        #expect(progress.kind == "install" && progress.step == "online" && progress.state == .succeeded && progress.done == 6 && progress.total == 6)
        // A second handshake of the node changes nothing.
        #expect(core.online(nodeID: "n-new", name: "pi-cam", now: 6).isEmpty)
    }

    @Test func anotherNodeCannotSteerTheJob() {
        var core = InstallJobsCore()
        _ = core.start(Self.job(), recordHostKey: false)
        #expect(core.progress(jobID: "inst-1", from: "n-other", step: "", message: "x", hostKey: "", failure: "auth_failed", finished: true, now: 1).isEmpty)
        #expect(core.job("inst-1")?.state == .running)
        // The host key is not recorded when the job pinned one.
        let directives = core.progress(jobID: "inst-1", from: "n-src", step: "authenticated", message: "", hostKey: "ssh-ed25519 AAAA", failure: "", finished: false, now: 1)
        #expect(!directives.contains { if case .recordHostKey = $0 { true } else { false } })
    }

    @Test func failuresEndTheJobWithTheirName() {
        var core = InstallJobsCore()
        _ = core.start(Self.job(), recordHostKey: true)
        let directives = core.progress(jobID: "inst-1", from: "n-src", step: "", message: "refused", hostKey: "", failure: "auth_failed", finished: true, now: 1)
        #expect(core.job("inst-1")?.state == .failed)
        #expect(core.job("inst-1")?.failure == "auth_failed")
        #expect(directives.contains { if case .finished = $0 { true } else { false } })
        // Nothing moves a finished job.
        #expect(core.progress(jobID: "inst-1", from: "n-src", step: "started", message: "", hostKey: "", failure: "", finished: false, now: 2).isEmpty)
        #expect(core.tick(now: 1_000_000).isEmpty)
    }

    @Test func deadlineSaysWhatWasMissing() {
        var core = InstallJobsCore()
        _ = core.start(Self.job("a", deadline: 100), recordHostKey: true)
        _ = core.start(Self.job("b", deadline: 100), recordHostKey: true)
        _ = core.progress(jobID: "b", from: "n-src", step: "started", message: "", hostKey: "", failure: "", finished: true, now: 50)
        #expect(core.tick(now: 99).isEmpty)
        _ = core.tick(now: 100)
        #expect(core.job("a")?.failure == "timed_out")
        #expect(core.job("b")?.failure == "not_online")
    }

    @Test func keepsABoundedHistory() {
        var core = InstallJobsCore()
        for index in 0..<(InstallJobsCore.keptJobs + 50) {
            _ = core.start(Self.job("j\(index)"), recordHostKey: false)
            _ = core.fail(jobID: "j\(index)", failure: "unreachable", message: "", now: 1)
        }
        #expect(core.all.count == InstallJobsCore.keptJobs)
        #expect(core.all.first?.id == "j\(InstallJobsCore.keptJobs + 49)")
    }

    @Test func aLostSourceFailsItsUnfinishedJobs() {
        var core = InstallJobsCore()
        _ = core.start(Self.job("a"), recordHostKey: false)
        _ = core.start(Self.job("b"), recordHostKey: false)
        _ = core.start(Self.job("c", via: "server"), recordHostKey: false)
        // b's script is done: it only waits for the new node, which does not need the source.
        _ = core.progress(jobID: "b", from: "n-src", step: "started", message: "", hostKey: "", failure: "", finished: true, now: 1)
        _ = core.sourceLost("n-src", now: 2)
        #expect(core.job("a")?.failure == "source_unavailable")
        #expect(core.job("b")?.state == .running)
        #expect(core.job("c")?.state == .running)
    }
}
