import ArgumentParser
import DVICCLI

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Make a one-time enrollment token and print the install line (admin).")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: ArgumentHelp("The new node's name (default: its hostname).", valueName: "NAME")) var name: String?
    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag for the new node (repeatable).", valueName: "TAG")) var tags: [String] = []
    @Option(help: ArgumentHelp("How long the token stays valid, e.g. 30m, 1h, 2d.", valueName: "DURATION")) var ttl = "1h"
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.enroll(name: name, tags: tags, ttl: ttl, json: json, client: try connection.client())
        }
    }
}

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Microcontrollers that post JSON keepalives.",
        subcommands: [DeviceAddCommand.self])
}

struct DeviceAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create a device and print its token and an example keepalive (admin).")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("The device's name.", valueName: "NAME")) var name: String
    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag (repeatable).", valueName: "TAG")) var tags: [String] = []
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.deviceAdd(name: name, tags: tags, json: json, client: try connection.client())
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Who did what: logins, commands, terminals, enrollments (operator).")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: ArgumentHelp("Only entries newer than this: an age (1h, 7d) or an RFC 3339 time.", valueName: "AGE")) var since: String?
    @Option(help: ArgumentHelp("Only this user's entries.", valueName: "USER")) var actor: String?
    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("Most entries shown.", valueName: "N")) var limit = 200
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.audit(since: since, actor: actor, limit: limit, json: json, client: try connection.client())
        }
    }
}

struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live fleet table, busiest CPU first, redrawn in place until q.",
        discussion: "Without a terminal (or with --once) it prints one snapshot.")

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print one snapshot and exit.") var once = false
    @Flag(help: "Print one snapshot as JSON.") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.top(json: json, once: once, client: try connection.client())
        }
    }
}
