import DVICCLI
import Foundation
import Testing

@Suite struct InstallProgressViewTests {
    /// Built from the server's JSON, as the CLI gets it.
    static func job(_ steps: [String], state: String = "running", failure: String? = nil, message: String = "") -> CLIModel.InstallJob {
        var object: [String: Any] = [
            "id": "inst-1", "state": state, "host": "10.0.0.5", "port": 22, "user": "pi", "via": "server", "name": "cam",
            "steps": steps.map { ["step": $0, "message": "m-\($0)", "at": "2026-11-29T06:00:00.000Z"] },
            "done": steps.count, "total": 6, "message": message, "hostKey": "", "nodeID": "n-1",
        ]
        if let failure { object["failure"] = failure }
        let data = try! JSONSerialization.data(withJSONObject: object)
        return try! JSONDecoder().decode(CLIModel.InstallJob.self, from: data)
    }

    @Test func printsEachStepOnceInOrder() {
        var view = InstallProgressView()
        #expect(view.lines(for: Self.job(["connecting"])) == ["[1/6] connecting    m-connecting"])
        #expect(view.lines(for: Self.job(["connecting"])).isEmpty)
        #expect(view.lines(for: Self.job(["connecting", "authenticated", "downloading"])) == [
            "[2/6] authenticated m-authenticated", "[3/6] downloading   m-downloading",
        ])
    }

    @Test func verdictNamesTheFailure() {
        #expect(InstallProgressView.verdict(Self.job([], state: "failed", failure: "auth_failed", message: "refused")) == "Install failed (auth_failed): refused")
        #expect(InstallProgressView.verdict(Self.job(["online"], state: "succeeded")) == "Installed: cam is node n-1 and online.")
    }
}
