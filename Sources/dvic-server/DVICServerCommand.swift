import ArgumentParser
import DVICServer
import Foundation
import Logging

/// `dvic-server`: flags and environment as in CONTRACT.md.
@main
struct DVICServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dvic-server",
        abstract: "Watches and drives a lab's fleet of demo machines.",
        version: FleetServer.version)

    @Option(help: "Address to listen on.") var host = "0.0.0.0"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(name: .customLong("data"), help: "Data directory (the SQLite store lives here).") var data = "./dvic-data"
    @Option(help: "Database URL: default the SQLite file in --data; postgres://user:pass@host:port/db for PostgreSQL.") var database: String?
    @Flag(help: "Do not run the local agent inside the server.") var noLocalAgent = false
    @Option(help: "TLS certificate (PEM).") var tlsCert: String?
    @Option(help: "TLS private key (PEM).") var tlsKey: String?
    @Option(help: "Seconds of silence before an agent is shown offline.") var agentTimeout = 30
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"
    @Option(help: "The server's URL as the lab's machines reach it (install scripts and one-liners); default: the address each request came to.") var publicURL: String?
    @Option(help: "The release public key (base64 of the raw Ed25519 key, or PEM from tools/sign-agent); agent builds must be signed by it. Env: DVIC_RELEASE_KEY.") var releaseKey: String?
    @Option(help: "The agent binary installs get while no signed build is uploaded (default: dvic-agent next to this executable).") var agentBinary: String?

    func run() async throws {
        var logger = Logger(label: "dvic-server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.dataDirectory = data
        configuration.databaseURL = database
        configuration.tlsCertificate = tlsCert
        configuration.tlsKey = tlsKey
        configuration.agentTimeoutSeconds = agentTimeout
        configuration.publicURL = publicURL
        configuration.localAgent = !noLocalAgent
        configuration.localAgentLogDirectory = ProcessInfo.processInfo.environment["DVIC_LOG_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.adminPassword = ProcessInfo.processInfo.environment["DVIC_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        if let keyFile = releaseKey ?? ProcessInfo.processInfo.environment["DVIC_RELEASE_KEY"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8) else {
                throw ValidationError("cannot read the release key \(keyFile)")
            }
            _ = try AgentBuilds.validateReleaseKey(text)
            configuration.releaseKeyText = text
        }
        configuration.agentBinaryPath = agentBinary
        if tlsCert != nil || tlsKey != nil {
            throw ValidationError("TLS is not built into this version yet; put the server behind a TLS proxy (README, Server).")
        }

        let store = try await FleetServer.openStore(configuration)
        let server = FleetServer(configuration: configuration, store: store, logger: logger)
        let host = self.host
        try await server.run { port in
            let shown = host == "0.0.0.0" ? (ProcessInfo.processInfo.hostName) : host
            print("dvic-server \(FleetServer.version) listening on \(host):\(port)")
            print("Dashboard: http://\(shown):\(port)/")
            if let generated = server.generatedAdminPassword {
                // Printed once, on the first start only; it is stored only as a hash.
                print("Admin login: admin / \(generated)")
            } else {
                print("Admin login: admin (password set earlier or from DVIC_ADMIN_PASSWORD)")
            }
            fflush(nil)
        }
    }
}
