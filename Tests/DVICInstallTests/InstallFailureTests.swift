import DVICInstall
import Testing

@Suite struct InstallFailureTests {
    @Test func namesRoundTrip() {
        for code in InstallFailure.Code.all {
            #expect(InstallFailure.Code(name: code.name) == code)
        }
        #expect(InstallFailure.Code(name: "nonsense") == nil)
    }
}
