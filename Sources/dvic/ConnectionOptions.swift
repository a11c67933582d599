import ArgumentParser
import DVICCLI

/// `--server` and `--token`, on every command that talks to the server.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Server URL, e.g. http://dvic.lab:8080 (else DVIC_SERVER, else the saved login).", valueName: "URL"))
    var server: String?

    @Option(help: ArgumentHelp("Bearer token (else DVIC_TOKEN, else the saved login).", valueName: "TOKEN"))
    var token: String?

    func client() throws(CLIError) -> FleetClient {
        try Commands.connection(serverFlag: server, tokenFlag: token)
    }
}

/// Runs a command's body: a `CLIError` becomes its one line on stderr and its exit
/// code; a non-zero result becomes the exit code.
func report(_ body: () async throws(CLIError) -> Int32) async throws {
    let code: Int32
    do {
        code = try await body()
    } catch {
        Console.err(error.description)
        throw ExitCode(error.exitCode.rawValue)
    }
    if code != 0 { throw ExitCode(code) }
}
