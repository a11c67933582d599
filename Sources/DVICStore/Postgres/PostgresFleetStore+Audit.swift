import PostgresNIO

extension PostgresFleetStore {
    public func appendAudit(_ record: AuditRecord) async throws(StoreError) -> Int64 {
        try await self.perform("appendAudit") { client in
            let rows = try await client.query(
                """
                INSERT INTO audit (at, actor, role, action, target, detail)
                VALUES (\(record.at), \(record.actor), \(record.role), \(record.action), \(record.target), \(JSONColumn.encode(record.detail)))
                RETURNING id
                """,
                logger: self.logger
            )
            for try await id in rows.decode(Int64.self) {
                return id
            }
            throw StoreError.backend("INSERT … RETURNING id returned no row")
        }
    }

    public func audit(since: Int64?, until: Int64?, actor: String?, limit: Int) async throws(StoreError) -> [AuditRecord] {
        let limit = Self.clampedLimit(limit)
        return try await self.perform("audit") { client in
            let rows = try await client.query(
                """
                SELECT id, at, actor, role, action, target, detail FROM audit
                WHERE (\(since)::int8 IS NULL OR at >= \(since)::int8) AND (\(until)::int8 IS NULL OR at < \(until)::int8)
                    AND (\(actor)::text IS NULL OR actor = \(actor)::text)
                ORDER BY at DESC, id DESC LIMIT \(limit)
                """,
                logger: self.logger
            )
            var records: [AuditRecord] = []
            for try await (id, at, actor, role, action, target, detail) in rows.decode(
                (Int64, Int64, String, String, String, String, String).self
            ) {
                records.append(
                    AuditRecord(
                        id: id,
                        at: at,
                        actor: actor,
                        role: role,
                        action: action,
                        target: target,
                        detail: try JSONColumn.dictionary(detail, column: "audit.detail")
                    )
                )
            }
            return records
        }
    }
}
