import ArgumentParser
import DVICCLI

/// `dvic update`: roll an agent build out in batches (Spec/updates.md).
struct UpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Update agents to a signed build, in batches, with live progress.",
        usage: "dvic update (--node <NODE> ... | --tag <TAG> ... | --all) [--batch <N>] [--version <V>] [--timeout <SECONDS>] [--json]",
        discussion: """
            Offers the build (default: the newest uploaded with `dvic builds upload`) to one \
            batch of nodes at a time. A node succeeds when it is back online with the new \
            version; it fails when its agent refuses the build, rolls back, or is not back \
            within --timeout. The rollout stops at the first batch with a failure. With \
            --all or --tag, offline nodes are left out. Exit 0 when every batch succeeded, \
            1 when the rollout failed.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .customLong("node"), help: ArgumentHelp("A node to update (repeatable).", valueName: "NODE")) var nodes: [String] = []
    @Option(name: .customLong("tag"), help: ArgumentHelp("Every online node with this tag (repeatable).", valueName: "TAG")) var tags: [String] = []
    @Flag(help: "Every online agent.") var all = false
    @Option(help: ArgumentHelp("Nodes updated at once.", valueName: "N")) var batch = 10
    @Option(help: ArgumentHelp("The build's version (default: the newest uploaded).", valueName: "V")) var version: String?
    @Option(help: ArgumentHelp("Seconds a node has to come back with the new version.", valueName: "SECONDS")) var timeout = 120
    @Flag(help: "Machine-readable output (the final rollout state).") var json = false

    var options: Commands.UpdateOptions {
        Commands.UpdateOptions(nodes: nodes, tags: tags, all: all, batch: batch, version: version, timeoutSeconds: timeout, json: json)
    }

    func validate() throws {
        do throws(CLIError) {
            try options.validate()
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.update(options, client: try connection.client())
        }
    }
}

/// `dvic builds`: the agent builds on the server; `dvic builds upload` adds a signed one.
struct BuildsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "builds",
        abstract: "List the agent builds on the server, or upload a signed one.",
        subcommands: [BuildsListCommand.self, BuildsUploadCommand.self],
        defaultSubcommand: BuildsListCommand.self)
}

struct BuildsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The signed builds, the fallback binary and the release key.")

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.builds(json: json, client: try connection.client())
        }
    }
}

struct BuildsUploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload a dvic-agent build signed with tools/sign-agent (admin).",
        discussion: """
            The version is read from the build's version stamp. The signature is FILE.sig \
            (what `tools/sign-agent sign KEY FILE` writes) unless --signature names another \
            file or gives the 128 hex digits. The server refuses unsigned builds and builds \
            whose signature is not its release key's.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("The dvic-agent executable.", valueName: "FILE")) var file: String
    @Option(help: ArgumentHelp("The signature file or its hex (default FILE.sig).", valueName: "SIG")) var signature: String?
    @Option(help: ArgumentHelp("Refuse unless the build is stamped with this version.", valueName: "V")) var version: String?
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await report { () async throws(CLIError) in
            try await Commands.uploadBuild(file: file, signature: signature, version: version, json: json, client: try connection.client())
        }
    }
}
