extension SQLiteFleetStore {
    public func appendAudit(_ record: AuditRecord) async throws(StoreError) -> Int64 {
        let detail = JSONColumn.encode(record.detail)
        return try await self.database.write { connection throws(StoreError) in
            try connection.run(
                "INSERT INTO audit (at, actor, role, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)"
            ) { statement throws(StoreError) in
                try statement.bind(record.at, at: 1)
                try statement.bind(record.actor, at: 2)
                try statement.bind(record.role, at: 3)
                try statement.bind(record.action, at: 4)
                try statement.bind(record.target, at: 5)
                try statement.bind(detail, at: 6)
            }
            return connection.lastInsertRowID
        }
    }

    public func audit(since: Int64?, until: Int64?, actor: String?, limit: Int) async throws(StoreError) -> [AuditRecord] {
        let limit = Self.clampedLimit(limit)
        return try await self.database.read { connection throws(StoreError) in
            // NULL parameters disable their filter, which keeps this one cached statement.
            try connection.rows(
                """
                SELECT id, at, actor, role, action, target, detail FROM audit
                WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) AND (?3 IS NULL OR actor = ?3)
                ORDER BY at DESC, id DESC LIMIT ?4
                """,
                { statement throws(StoreError) in
                    try statement.bind(since, at: 1)
                    try statement.bind(until, at: 2)
                    try statement.bind(actor, at: 3)
                    try statement.bind(limit, at: 4)
                }
            ) { statement throws(StoreError) in
                AuditRecord(
                    id: statement.int64(0),
                    at: statement.int64(1),
                    actor: statement.string(2),
                    role: statement.string(3),
                    action: statement.string(4),
                    target: statement.string(5),
                    detail: try JSONColumn.dictionary(statement.string(6), column: "audit.detail")
                )
            }
        }
    }
}
