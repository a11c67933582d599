import ArgumentParser
import DVICCLI

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in and save the server and token in ~/.config/dvic/config.json.",
        discussion: "Asks for what is not given; the password is read without echo, or from standard input with --password-stdin.")

    @Option(help: ArgumentHelp("Server URL, e.g. http://dvic.lab:8080.", valueName: "URL")) var server: String?
    @Option(help: ArgumentHelp("User name (default: the saved one, else admin).", valueName: "NAME")) var user: String?
    @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.login(Commands.LoginOptions(server: server, user: user, passwordStdin: passwordStdin))
        }
    }
}

struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "End the session and forget the saved token.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.logout(serverFlag: connection.server, tokenFlag: connection.token)
        }
    }
}
