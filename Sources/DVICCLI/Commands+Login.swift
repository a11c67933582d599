internal import Foundation

extension Commands {
    public struct LoginOptions: Sendable {
        public var server: String?
        public var user: String?
        public var passwordStdin: Bool

        public init(server: String?, user: String?, passwordStdin: Bool) {
            self.server = server
            self.user = user
            self.passwordStdin = passwordStdin
        }
    }

    /// `dvic login`: asks for what is missing, logs in, saves server and token (0600).
    public static func login(_ options: LoginOptions, environment: [String: String] = Commands.processEnvironment) async throws(CLIError) -> Int32 {
        guard let path = CLIConfig.path(environment: environment) else { throw .usage("no home folder to save the login in (set HOME)") }
        var config = try CLIConfig.load(path: path)
        let interactive = Console.isTerminal(0)
        var serverText = options.server ?? environment["DVIC_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
        if serverText == nil {
            if let saved = config.server {
                serverText = saved
            } else if interactive {
                serverText = Terminal.prompt("Server URL (e.g. http://dvic.lab:8080): ")
            }
        }
        guard let serverText, !serverText.trimmingWhitespace().isEmpty else { throw .usage("no server: pass --server URL") }
        let server = try ConnectionSettings.normalize(serverText)

        var user = options.user
        if user == nil {
            if interactive && !options.passwordStdin {
                let suggested = config.user ?? "admin"
                let answer = Terminal.prompt("User [\(suggested)]: ")?.trimmingWhitespace() ?? ""
                user = answer.isEmpty ? suggested : answer
            } else {
                user = config.user ?? "admin"
            }
        }
        guard let user, !user.isEmpty else { throw .usage("no user name: pass --user NAME") }

        let password: String
        if options.passwordStdin {
            guard let line = readLine(strippingNewline: true) else { throw .usage("--password-stdin: nothing on standard input") }
            password = line.hasSuffix("\r") ? String(line.dropLast()) : line
        } else {
            password = try Terminal.password("Password for \(user) on \(server): ")
        }
        guard !password.isEmpty else { throw .usage("empty password") }

        let client = FleetClient(settings: ConnectionSettings(server: server, token: nil))
        let answer = try await client.login(username: user, password: password)
        config.server = server
        config.token = answer.token
        config.user = user
        try config.save(path: path)
        Console.err("Logged in to \(server) as \(user) (\(answer.role)); saved in \(path)")
        return CLIExitCode.success.rawValue
    }

    /// `dvic logout`: ends the session on the server and forgets the saved token.
    public static func logout(serverFlag: String?, tokenFlag: String?, environment: [String: String] = Commands.processEnvironment) async throws(CLIError) -> Int32 {
        let client = try connection(serverFlag: serverFlag, tokenFlag: tokenFlag, environment: environment)
        if client.settings.token != nil { try await client.logout() }
        if let path = CLIConfig.path(environment: environment) {
            var config = try CLIConfig.load(path: path)
            if config.token != nil, let saved = config.server, (try? ConnectionSettings.normalize(saved)) == client.settings.server {
                config.token = nil
                try config.save(path: path)
            }
        }
        Console.err("Logged out of \(client.settings.server)")
        return CLIExitCode.success.rawValue
    }
}
