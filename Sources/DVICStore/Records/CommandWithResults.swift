/// A command and its results, as one Sendable value to carry off a database thread.
struct CommandWithResults: Sendable {
    var command: CommandRecord
    var results: [CommandResultRecord]
}
