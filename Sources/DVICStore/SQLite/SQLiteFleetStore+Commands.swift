extension SQLiteFleetStore {
    public func saveCommand(_ command: CommandRecord) async throws(StoreError) {
        let targets = JSONColumn.encode(command.targets)
        try await self.database.write { connection throws(StoreError) in
            try connection.run(
                "INSERT INTO commands (id, actor, command_line, targets, created_at, timeout_ms) VALUES (?, ?, ?, ?, ?, ?)"
            ) { statement throws(StoreError) in
                try statement.bind(command.id, at: 1)
                try statement.bind(command.actor, at: 2)
                try statement.bind(command.commandLine, at: 3)
                try statement.bind(targets, at: 4)
                try statement.bind(command.createdAt, at: 5)
                try statement.bind(command.timeoutMs, at: 6)
            }
        }
    }

    public func saveCommandResults(_ results: [CommandResultRecord]) async throws(StoreError) {
        guard !results.isEmpty else { return }
        // One statement per row here: outputs can be large, and a batch of results is
        // small (one per target node), so the one transaction is what matters.
        try await self.database.write { connection throws(StoreError) in
            for result in results {
                try connection.run(
                    """
                    INSERT INTO command_results
                        (command_id, node_id, exit_code, signal, reason, duration_ms, stdout, stderr, finished_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (command_id, node_id) DO UPDATE SET exit_code = excluded.exit_code,
                        signal = excluded.signal, reason = excluded.reason, duration_ms = excluded.duration_ms,
                        stdout = excluded.stdout, stderr = excluded.stderr, finished_at = excluded.finished_at
                    """
                ) { statement throws(StoreError) in
                    try statement.bind(result.commandID, at: 1)
                    try statement.bind(result.nodeID, at: 2)
                    try statement.bind(result.exitCode, at: 3)
                    try statement.bind(result.signal, at: 4)
                    try statement.bind(result.reason, at: 5)
                    try statement.bind(result.durationMs, at: 6)
                    try statement.bind(result.stdout, at: 7)
                    try statement.bind(result.stderr, at: 8)
                    try statement.bind(result.finishedAt, at: 9)
                }
            }
        }
    }

    public func command(id: String) async throws(StoreError) -> (command: CommandRecord, results: [CommandResultRecord])? {
        let found = try await self.database.read { connection throws(StoreError) -> CommandWithResults? in
            guard
                let command = try connection.firstRow(
                    "SELECT id, actor, command_line, targets, created_at, timeout_ms FROM commands WHERE id = ?",
                    { statement throws(StoreError) in try statement.bind(id, at: 1) },
                    row: Self.command(from:)
                )
            else { return nil }
            let results = try connection.rows(
                """
                SELECT command_id, node_id, exit_code, signal, reason, duration_ms, stdout, stderr, finished_at
                FROM command_results WHERE command_id = ? ORDER BY node_id
                """,
                { statement throws(StoreError) in try statement.bind(id, at: 1) }
            ) { statement in
                CommandResultRecord(
                    commandID: statement.string(0),
                    nodeID: statement.string(1),
                    exitCode: statement.optionalInt(2),
                    signal: statement.optionalInt(3),
                    reason: statement.string(4),
                    durationMs: statement.int64(5),
                    stdout: statement.blob(6),
                    stderr: statement.blob(7),
                    finishedAt: statement.int64(8)
                )
            }
            return CommandWithResults(command: command, results: results)
        }
        return found.map { ($0.command, $0.results) }
    }

    public func commands(limit: Int) async throws(StoreError) -> [CommandRecord] {
        let limit = Self.clampedLimit(limit)
        return try await self.database.read { connection throws(StoreError) in
            try connection.rows(
                "SELECT id, actor, command_line, targets, created_at, timeout_ms FROM commands ORDER BY created_at DESC, id DESC LIMIT ?",
                { statement throws(StoreError) in try statement.bind(limit, at: 1) },
                row: Self.command(from:)
            )
        }
    }

    private static func command(from statement: SQLiteStatement) throws(StoreError) -> CommandRecord {
        CommandRecord(
            id: statement.string(0),
            actor: statement.string(1),
            commandLine: statement.string(2),
            targets: try JSONColumn.strings(statement.string(3), column: "commands.targets"),
            createdAt: statement.int64(4),
            timeoutMs: statement.int64(5)
        )
    }
}
