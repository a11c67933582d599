/// One SSH install: where to log in, how, and what to run there.
///
/// The password is used for the SSH login and, on the target, fed to `sudo -S` through the
/// channel's stdin; it is held in memory for the job only. `description` leaves it out, so a
/// job can be logged or printed without leaking it.
public struct SSHInstallJob: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    /// The target's host key in OpenSSH form (`ssh-ed25519 AAAA…`), recorded on first use;
    /// nil trusts whatever key the target presents and reports it.
    public var pinnedHostKey: String?
    /// The shell command run on the target (built by `InstallCommand`).
    public var command: String
    public var connectTimeout: Duration
    /// The whole job, from connecting to the command's exit.
    public var timeout: Duration

    public init(
        host: String, port: Int = 22, user: String, password: String, pinnedHostKey: String? = nil, command: String,
        connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(300)
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.pinnedHostKey = pinnedHostKey
        self.command = command
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    public var description: String { "\(user)@\(host):\(port)" }
}
