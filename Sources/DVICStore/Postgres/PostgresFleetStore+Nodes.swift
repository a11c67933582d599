import Logging
import NIOCore
import PostgresNIO

extension PostgresFleetStore {
    // MARK: Enrollments

    public func createEnrollment(_ enrollment: EnrollmentRecord) async throws(StoreError) {
        try await self.perform("createEnrollment") { client in
            try await client.query(
                """
                INSERT INTO enrollments (token_hash, name, tags, created_by, created_at, expires_at, used_at, node_id)
                VALUES (\(ByteBuffer(bytes: enrollment.tokenHash)), \(enrollment.name), \(JSONColumn.encode(enrollment.tags)),
                    \(enrollment.createdBy), \(enrollment.createdAt), \(enrollment.expiresAt), \(enrollment.usedAt), \(enrollment.nodeID))
                """,
                logger: self.logger
            )
        }
    }

    public func enrollment(tokenHash: [UInt8]) async throws(StoreError) -> EnrollmentRecord? {
        try await self.perform("enrollment") { client in
            try await Self.enrollment(tokenHash: tokenHash, client, logger: self.logger)
        }
    }

    public func consumeEnrollment(tokenHash: [UInt8], nodeID: String, now: Int64) async throws(StoreError) -> EnrollmentRecord {
        // One conditional UPDATE: of racing calls, the row lock lets the first through
        // and makes the others re-check `used_at IS NULL` on the updated row, which
        // then fails. Only a loser reads the row again, to say why it lost.
        try await self.perform("consumeEnrollment") { client in
            let hash = ByteBuffer(bytes: tokenHash)
            let rows = try await client.query(
                """
                UPDATE enrollments SET used_at = \(now), node_id = \(nodeID)
                WHERE token_hash = \(hash) AND used_at IS NULL AND expires_at > \(now)
                RETURNING token_hash, name, tags, created_by, created_at, expires_at, used_at, node_id
                """,
                logger: self.logger
            )
            if let consumed = try await Self.enrollments(rows).first {
                return consumed
            }
            guard let existing = try await Self.enrollment(tokenHash: tokenHash, client, logger: self.logger) else {
                throw StoreError(code: .enrollmentUnknown, message: "no enrollment has this token")
            }
            if existing.usedAt != nil {
                throw StoreError(code: .enrollmentAlreadyUsed, message: "the enrollment token was used already")
            }
            throw StoreError(code: .enrollmentExpired, message: "the enrollment token expired")
        }
    }

    private static func enrollment(tokenHash: [UInt8], _ client: PostgresClient, logger: Logger) async throws -> EnrollmentRecord? {
        try await Self.enrollments(
            client.query(
                """
                SELECT token_hash, name, tags, created_by, created_at, expires_at, used_at, node_id
                FROM enrollments WHERE token_hash = \(ByteBuffer(bytes: tokenHash))
                """,
                logger: logger
            )
        ).first
    }

    private static func enrollments(_ rows: PostgresRowSequence) async throws -> [EnrollmentRecord] {
        var result: [EnrollmentRecord] = []
        for try await (hash, name, tags, createdBy, createdAt, expiresAt, usedAt, nodeID) in rows.decode(
            (ByteBuffer, String, String, String, Int64, Int64, Int64?, String?).self
        ) {
            result.append(
                EnrollmentRecord(
                    tokenHash: Array(hash.readableBytesView),
                    name: name,
                    tags: try JSONColumn.strings(tags, column: "enrollments.tags"),
                    createdBy: createdBy,
                    createdAt: createdAt,
                    expiresAt: expiresAt,
                    usedAt: usedAt,
                    nodeID: nodeID
                )
            )
        }
        return result
    }

    // MARK: Nodes

    private static let nodeColumns =
        "id, name, kind, tags, public_key, device_token_hash, agent_version, inventory, created_at, last_seen"

    public func insertNode(_ node: NodeRecord) async throws(StoreError) {
        try await self.perform("insertNode") { client in
            try await client.query(
                """
                INSERT INTO nodes (id, name, kind, tags, public_key, device_token_hash, agent_version, inventory, created_at, last_seen)
                VALUES (\(node.id), \(node.name), \(node.kind), \(JSONColumn.encode(node.tags)), \(ByteBuffer(bytes: node.publicKey)),
                    \(node.deviceTokenHash.map { ByteBuffer(bytes: $0) }), \(node.agentVersion), \(JSONColumn.encode(node.inventory)),
                    \(node.createdAt), \(node.lastSeen))
                """,
                logger: self.logger
            )
        }
    }

    public func updateNode(id: String, _ update: NodeUpdate) async throws(StoreError) -> NodeRecord {
        let tags = update.tags.map { JSONColumn.encode($0) }
        let inventory = update.inventory.map { JSONColumn.encode($0) }
        let node = try await self.perform("updateNode") { client in
            try await Self.nodes(
                client.query(
                    """
                    UPDATE nodes SET name = coalesce(\(update.name)::text, name), tags = coalesce(\(tags)::text, tags),
                        inventory = coalesce(\(inventory)::text, inventory),
                        agent_version = coalesce(\(update.agentVersion)::text, agent_version)
                    WHERE id = \(id) RETURNING \(unescaped: Self.nodeColumns)
                    """,
                    logger: self.logger
                )
            ).first
        }
        guard let node else {
            throw .notFound("no node with this id")
        }
        return node
    }

    public func setLastSeen(_ lastSeen: [String: Int64]) async throws(StoreError) {
        guard !lastSeen.isEmpty else { return }
        // Sorted, so concurrent batches lock rows in one order and cannot deadlock.
        let sorted = lastSeen.sorted { $0.key < $1.key }
        let ids = sorted.map(\.key)
        let times = sorted.map(\.value)
        try await self.transaction("setLastSeen") { connection in
            // Soft state: the counterpart of SQLite's synchronous = NORMAL.
            try await connection.query("SET LOCAL synchronous_commit = off", logger: self.logger)
            try await connection.query(
                """
                UPDATE nodes AS n SET last_seen = v.ts
                FROM unnest(\(ids)::text[], \(times)::int8[]) AS v(id, ts)
                WHERE n.id = v.id AND n.last_seen < v.ts
                """,
                logger: self.logger
            )
        }
    }

    public func node(id: String) async throws(StoreError) -> NodeRecord? {
        try await self.perform("node(id:)") { client in
            try await Self.nodes(client.query("SELECT \(unescaped: Self.nodeColumns) FROM nodes WHERE id = \(id)", logger: self.logger)).first
        }
    }

    public func node(deviceTokenHash: [UInt8]) async throws(StoreError) -> NodeRecord? {
        try await self.perform("node(deviceTokenHash:)") { client in
            try await Self.nodes(
                client.query(
                    "SELECT \(unescaped: Self.nodeColumns) FROM nodes WHERE device_token_hash = \(ByteBuffer(bytes: deviceTokenHash))",
                    logger: self.logger
                )
            ).first
        }
    }

    public func nodes() async throws(StoreError) -> [NodeRecord] {
        try await self.perform("nodes") { client in
            try await Self.nodes(client.query("SELECT \(unescaped: Self.nodeColumns) FROM nodes ORDER BY id COLLATE \"C\"", logger: self.logger))
        }
    }

    public func deleteNode(id: String) async throws(StoreError) -> Bool {
        try await self.transaction("deleteNode") { connection in
            try await connection.query("DELETE FROM logs WHERE node_id = \(id)", logger: self.logger)
            try await connection.query("DELETE FROM log_streams WHERE node_id = \(id)", logger: self.logger)
            try await connection.query("DELETE FROM log_marks WHERE node_id = \(id)", logger: self.logger)
            try await connection.query("DELETE FROM rollups WHERE node_id = \(id)", logger: self.logger)
            return try await Self.count(
                connection.query("WITH gone AS (DELETE FROM nodes WHERE id = \(id) RETURNING 1) SELECT count(*) FROM gone", logger: self.logger)
            ) > 0
        }
    }

    private static func nodes(_ rows: PostgresRowSequence) async throws -> [NodeRecord] {
        var nodes: [NodeRecord] = []
        for try await (id, name, kind, tags, publicKey, deviceTokenHash, agentVersion, inventory, createdAt, lastSeen) in rows.decode(
            (String, String, String, String, ByteBuffer, ByteBuffer?, String, String, Int64, Int64).self
        ) {
            nodes.append(
                NodeRecord(
                    id: id,
                    name: name,
                    kind: kind,
                    tags: try JSONColumn.strings(tags, column: "nodes.tags"),
                    publicKey: Array(publicKey.readableBytesView),
                    deviceTokenHash: deviceTokenHash.map { Array($0.readableBytesView) },
                    agentVersion: agentVersion,
                    inventory: try JSONColumn.dictionary(inventory, column: "nodes.inventory"),
                    createdAt: createdAt,
                    lastSeen: lastSeen
                )
            )
        }
        return nodes
    }
}
