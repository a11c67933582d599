import ArgumentParser
import DVICCLI

/// `dvic node add`: installs the agent on a machine over SSH and enrolls it (issue 8).
struct NodeAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a machine over SSH: install the agent from a node of the fleet (or the server) and enroll it.",
        usage: "echo PASSWORD | dvic node add --ip IP [--port 22] --user USER --password-stdin --via SOURCE_NODE|server [--name NAME] [--tag TAG]...",
        discussion: """
            The server creates a one-time enrollment and asks the source node's agent (or, with \
            --via server, itself) to log in to IP with the password, record the machine's host key \
            on first use, and run the install script there with sudo -S. Steps are shown as they \
            happen: connecting, authenticated, downloading, installed, started, online. The command \
            exits 0 once the new node is online, 1 when the install failed (the message names \
            the failure: unreachable, host_key_changed, auth_failed, no_sudo, download_failed, \
            install_failed, not_online, timed_out). The password is read from stdin, sent to \
            the server once, and stored nowhere.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: ArgumentHelp("The machine's IP address or host name.", valueName: "IP")) var ip: String
    @Option(help: "Its SSH port.") var port = 22
    @Option(help: ArgumentHelp("The SSH user (root, or a user that may sudo).", valueName: "USER")) var user: String
    @Flag(help: "Read the password from the first line of stdin (required: never pass it as an argument).") var passwordStdin = false
    @Option(help: ArgumentHelp("The node that runs the SSH session (name or id), or `server`.", valueName: "SOURCE_NODE|server")) var via = "server"
    @Option(help: ArgumentHelp("The new node's name.", valueName: "NAME")) var name: String?
    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag for the new node (repeatable).", valueName: "TAG")) var tags: [String] = []
    @Option(help: ArgumentHelp("Install under this directory on the machine instead of /usr/local, /etc and /var/lib (no systemd unit).", valueName: "DIR")) var prefix: String?
    @Option(help: ArgumentHelp("Seconds until the node must be online.", valueName: "SECONDS")) var timeout = 300
    @Flag(help: "Accept a host key that differs from the recorded one (the machine was reinstalled).") var acceptNewHostKey = false
    @Flag(help: "Machine-readable output (the final job).") var json = false

    func validate() throws {
        guard passwordStdin else { throw ValidationError("give the password on stdin with --password-stdin") }
    }

    func run() async throws {
        try await report { () async throws(CLIError) in
            let password = try Commands.readPasswordLine()
            return try await Commands.nodeAdd(Commands.NodeAddOptions(
                ip: ip, port: port, user: user, password: password, via: via, name: name, tags: tags, prefix: prefix,
                timeoutSeconds: timeout, replaceHostKey: acceptNewHostKey, json: json), client: try connection.client())
        }
    }
}
