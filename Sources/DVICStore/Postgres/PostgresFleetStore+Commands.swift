import NIOCore
import PostgresNIO

extension PostgresFleetStore {
    public func saveCommand(_ command: CommandRecord) async throws(StoreError) {
        try await self.perform("saveCommand") { client in
            try await client.query(
                """
                INSERT INTO commands (id, actor, command_line, targets, created_at, timeout_ms)
                VALUES (\(command.id), \(command.actor), \(command.commandLine), \(JSONColumn.encode(command.targets)),
                    \(command.createdAt), \(command.timeoutMs))
                """,
                logger: self.logger
            )
        }
    }

    public func saveCommandResults(_ results: [CommandResultRecord]) async throws(StoreError) {
        guard !results.isEmpty else { return }
        // One statement per row, as in SQLite: few rows with possibly large outputs.
        try await self.transaction("saveCommandResults") { connection in
            for result in results {
                try await connection.query(
                    """
                    INSERT INTO command_results
                        (command_id, node_id, exit_code, signal, reason, duration_ms, stdout, stderr, finished_at)
                    VALUES (\(result.commandID), \(result.nodeID), \(result.exitCode), \(result.signal), \(result.reason),
                        \(result.durationMs), \(ByteBuffer(bytes: result.stdout)), \(ByteBuffer(bytes: result.stderr)), \(result.finishedAt))
                    ON CONFLICT (command_id, node_id) DO UPDATE SET exit_code = EXCLUDED.exit_code,
                        signal = EXCLUDED.signal, reason = EXCLUDED.reason, duration_ms = EXCLUDED.duration_ms,
                        stdout = EXCLUDED.stdout, stderr = EXCLUDED.stderr, finished_at = EXCLUDED.finished_at
                    """,
                    logger: self.logger
                )
            }
        }
    }

    public func command(id: String) async throws(StoreError) -> (command: CommandRecord, results: [CommandResultRecord])? {
        let found = try await self.transaction("command(id:)") { connection -> CommandWithResults? in
            let commands = try await Self.commands(
                connection.query(
                    "SELECT id, actor, command_line, targets, created_at, timeout_ms FROM commands WHERE id = \(id)",
                    logger: self.logger
                )
            )
            guard let command = commands.first else { return nil }
            let rows = try await connection.query(
                """
                SELECT command_id, node_id, exit_code, signal, reason, duration_ms, stdout, stderr, finished_at
                FROM command_results WHERE command_id = \(id) ORDER BY node_id COLLATE "C"
                """,
                logger: self.logger
            )
            var results: [CommandResultRecord] = []
            for try await (commandID, nodeID, exitCode, signal, reason, durationMs, stdout, stderr, finishedAt) in rows.decode(
                (String, String, Int?, Int?, String, Int64, ByteBuffer, ByteBuffer, Int64).self
            ) {
                results.append(
                    CommandResultRecord(
                        commandID: commandID,
                        nodeID: nodeID,
                        exitCode: exitCode,
                        signal: signal,
                        reason: reason,
                        durationMs: durationMs,
                        stdout: Array(stdout.readableBytesView),
                        stderr: Array(stderr.readableBytesView),
                        finishedAt: finishedAt
                    )
                )
            }
            return CommandWithResults(command: command, results: results)
        }
        return found.map { ($0.command, $0.results) }
    }

    public func commands(limit: Int) async throws(StoreError) -> [CommandRecord] {
        let limit = Self.clampedLimit(limit)
        return try await self.perform("commands") { client in
            try await Self.commands(
                client.query(
                    """
                    SELECT id, actor, command_line, targets, created_at, timeout_ms FROM commands
                    ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT \(limit)
                    """,
                    logger: self.logger
                )
            )
        }
    }

    private static func commands(_ rows: PostgresRowSequence) async throws -> [CommandRecord] {
        var commands: [CommandRecord] = []
        for try await (id, actor, commandLine, targets, createdAt, timeoutMs) in rows.decode(
            (String, String, String, String, Int64, Int64).self
        ) {
            commands.append(
                CommandRecord(
                    id: id,
                    actor: actor,
                    commandLine: commandLine,
                    targets: try JSONColumn.strings(targets, column: "commands.targets"),
                    createdAt: createdAt,
                    timeoutMs: timeoutMs
                )
            )
        }
        return commands
    }
}
