/// A step of an install as the SSH side sees it: `connecting`, `authenticated` (with the host key
/// the target presented), then the install script's own steps (`downloading`, `installed`,
/// `started`, …; Spec/install.md).
public struct InstallProgressEvent: Sendable, Hashable {
    public var step: String
    public var message: String
    /// The target's host key in OpenSSH form, once known.
    public var hostKey: String

    public init(step: String, message: String, hostKey: String = "") {
        self.step = step
        self.message = message
        self.hostKey = hostKey
    }
}
