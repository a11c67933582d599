import Synchronization

extension SQLiteFleetStore {
    // MARK: Enrollments

    public func createEnrollment(_ enrollment: EnrollmentRecord) async throws(StoreError) {
        try await self.database.write { connection throws(StoreError) in
            try connection.run(
                """
                INSERT INTO enrollments (token_hash, name, tags, created_by, created_at, expires_at, used_at, node_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
            ) { statement throws(StoreError) in
                try statement.bind(enrollment.tokenHash, at: 1)
                try statement.bind(enrollment.name, at: 2)
                try statement.bind(JSONColumn.encode(enrollment.tags), at: 3)
                try statement.bind(enrollment.createdBy, at: 4)
                try statement.bind(enrollment.createdAt, at: 5)
                try statement.bind(enrollment.expiresAt, at: 6)
                try statement.bind(enrollment.usedAt, at: 7)
                try statement.bind(enrollment.nodeID, at: 8)
            }
        }
    }

    public func enrollment(tokenHash: [UInt8]) async throws(StoreError) -> EnrollmentRecord? {
        try await self.database.read { connection throws(StoreError) in
            try Self.enrollment(tokenHash: tokenHash, connection)
        }
    }

    public func consumeEnrollment(tokenHash: [UInt8], nodeID: String, now: Int64) async throws(StoreError) -> EnrollmentRecord {
        // The single writer thread serializes racing calls, and the check and the
        // update share one IMMEDIATE transaction: the second caller sees usedAt set.
        try await self.database.write { connection throws(StoreError) in
            guard var enrollment = try Self.enrollment(tokenHash: tokenHash, connection) else {
                throw StoreError(code: .enrollmentUnknown, message: "no enrollment has this token")
            }
            if enrollment.usedAt != nil {
                throw StoreError(code: .enrollmentAlreadyUsed, message: "the enrollment token was used already")
            }
            if enrollment.expiresAt <= now {
                throw StoreError(code: .enrollmentExpired, message: "the enrollment token expired")
            }
            let changed = try connection.run(
                "UPDATE enrollments SET used_at = ?, node_id = ? WHERE token_hash = ? AND used_at IS NULL"
            ) { statement throws(StoreError) in
                try statement.bind(now, at: 1)
                try statement.bind(nodeID, at: 2)
                try statement.bind(tokenHash, at: 3)
            }
            guard changed == 1 else {
                throw StoreError(code: .enrollmentAlreadyUsed, message: "the enrollment token was used already")
            }
            enrollment.usedAt = now
            enrollment.nodeID = nodeID
            return enrollment
        }
    }

    private static func enrollment(tokenHash: [UInt8], _ connection: SQLiteConnection) throws(StoreError) -> EnrollmentRecord? {
        try connection.firstRow(
            """
            SELECT token_hash, name, tags, created_by, created_at, expires_at, used_at, node_id
            FROM enrollments WHERE token_hash = ?
            """,
            { statement throws(StoreError) in try statement.bind(tokenHash, at: 1) }
        ) { statement throws(StoreError) in
            EnrollmentRecord(
                tokenHash: statement.blob(0),
                name: statement.string(1),
                tags: try JSONColumn.strings(statement.string(2), column: "enrollments.tags"),
                createdBy: statement.string(3),
                createdAt: statement.int64(4),
                expiresAt: statement.int64(5),
                usedAt: statement.optionalInt64(6),
                nodeID: statement.optionalString(7)
            )
        }
    }

    // MARK: Nodes

    private static let nodeColumns =
        "id, name, kind, tags, public_key, device_token_hash, agent_version, inventory, created_at, last_seen"

    public func insertNode(_ node: NodeRecord) async throws(StoreError) {
        try await self.database.write { connection throws(StoreError) in
            try connection.run("INSERT INTO nodes (\(Self.nodeColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") { statement throws(StoreError) in
                try statement.bind(node.id, at: 1)
                try statement.bind(node.name, at: 2)
                try statement.bind(node.kind, at: 3)
                try statement.bind(JSONColumn.encode(node.tags), at: 4)
                try statement.bind(node.publicKey, at: 5)
                try statement.bind(node.deviceTokenHash, at: 6)
                try statement.bind(node.agentVersion, at: 7)
                try statement.bind(JSONColumn.encode(node.inventory), at: 8)
                try statement.bind(node.createdAt, at: 9)
                try statement.bind(node.lastSeen, at: 10)
            }
        }
    }

    public func updateNode(id: String, _ update: NodeUpdate) async throws(StoreError) -> NodeRecord {
        let tags = update.tags.map { JSONColumn.encode($0) }
        let inventory = update.inventory.map { JSONColumn.encode($0) }
        let node = try await self.database.write { connection throws(StoreError) in
            try connection.firstRow(
                """
                UPDATE nodes SET name = coalesce(?, name), tags = coalesce(?, tags),
                    inventory = coalesce(?, inventory), agent_version = coalesce(?, agent_version)
                WHERE id = ? RETURNING \(Self.nodeColumns)
                """,
                { statement throws(StoreError) in
                    try statement.bind(update.name, at: 1)
                    try statement.bind(tags, at: 2)
                    try statement.bind(inventory, at: 3)
                    try statement.bind(update.agentVersion, at: 4)
                    try statement.bind(id, at: 5)
                },
                row: Self.node(from:)
            )
        }
        guard let node else {
            throw .notFound("no node with this id")
        }
        return node
    }

    public func setLastSeen(_ lastSeen: [String: Int64]) async throws(StoreError) {
        guard !lastSeen.isEmpty else { return }
        // Soft state, replaced by the next report: NORMAL durability is enough.
        try await self.database.write(.normal, lane: .bulk) { connection throws(StoreError) in
            for (id, time) in lastSeen {
                try connection.run("UPDATE nodes SET last_seen = ? WHERE id = ? AND last_seen < ?") { statement throws(StoreError) in
                    try statement.bind(time, at: 1)
                    try statement.bind(id, at: 2)
                    try statement.bind(time, at: 3)
                }
            }
        }
    }

    public func node(id: String) async throws(StoreError) -> NodeRecord? {
        try await self.database.read { connection throws(StoreError) in
            try connection.firstRow(
                "SELECT \(Self.nodeColumns) FROM nodes WHERE id = ?",
                { statement throws(StoreError) in try statement.bind(id, at: 1) },
                row: Self.node(from:)
            )
        }
    }

    public func node(deviceTokenHash: [UInt8]) async throws(StoreError) -> NodeRecord? {
        try await self.database.read { connection throws(StoreError) in
            try connection.firstRow(
                "SELECT \(Self.nodeColumns) FROM nodes WHERE device_token_hash = ?",
                { statement throws(StoreError) in try statement.bind(deviceTokenHash, at: 1) },
                row: Self.node(from:)
            )
        }
    }

    public func nodes() async throws(StoreError) -> [NodeRecord] {
        try await self.database.read { connection throws(StoreError) in
            try connection.rows("SELECT \(Self.nodeColumns) FROM nodes ORDER BY id", row: Self.node(from:))
        }
    }

    public func deleteNode(id: String) async throws(StoreError) -> Bool {
        try await self.database.write(.full, lane: .prompt, { connection throws(StoreError) in
            let bindID = { (statement: SQLiteStatement) throws(StoreError) in try statement.bind(id, at: 1) }
            // The node's indexed rows through the side index, then its unindexed tail
            // (SQLiteLogIndex); the delete trigger clears the side entries.
            try connection.run("DELETE FROM logs WHERE id IN (SELECT id FROM log_node_ts WHERE node_id = ?)", bindID)
            try connection.run("DELETE FROM logs WHERE id > (SELECT indexed_to FROM log_index_state) AND node_id = ?", bindID)
            try connection.run("DELETE FROM log_streams WHERE node_id = ?", bindID)
            try connection.run("DELETE FROM log_marks WHERE node_id = ?", bindID)
            // Its metric names only: the packs no name reaches go with retention (SQLiteRollups).
            try connection.run("DELETE FROM rollup_names WHERE node_id = ?", bindID)
            self.rollupNames.withLock { $0[id] = nil }
            return try connection.run("DELETE FROM nodes WHERE id = ?", bindID) > 0
        }, committed: { _ in
            // After the commit only: a delete that rolled back must leave the node's marks,
            // and its waiting marks are in no table.
            self.logMarks.withLock { cache in cache = cache.filter { $0.key.nodeID != id } }
            self.logMarkLedger.withLock { $0.forget(nodeID: id) }
        })
    }

    private static func node(from statement: SQLiteStatement) throws(StoreError) -> NodeRecord {
        NodeRecord(
            id: statement.string(0),
            name: statement.string(1),
            kind: statement.string(2),
            tags: try JSONColumn.strings(statement.string(3), column: "nodes.tags"),
            publicKey: statement.blob(4),
            deviceTokenHash: statement.optionalBlob(5),
            agentVersion: statement.string(6),
            inventory: try JSONColumn.dictionary(statement.string(7), column: "nodes.inventory"),
            createdAt: statement.int64(8),
            lastSeen: statement.int64(9)
        )
    }
}
