/// The PostgreSQL schema, as numbered migrations of single statements (the extended
/// query protocol that postgres-nio speaks runs one statement per query).
///
/// Same tables and meaning as `SQLiteSchema`; the full-text index is a generated
/// `tsvector` column with a GIN index. Its text has punctuation blanked before the
/// 'simple' parser sees it, so that `/usr/sbin/nginx` or `foo-bar` index their words
/// the way SQLite's unicode61 tokenizer does, rather than as one path or host token.
enum PostgresSchema {
    static let migrations: [[String]] = [
        // 1: everything of the first release.
        [
            """
            CREATE TABLE users (
                id text PRIMARY KEY,
                username text NOT NULL UNIQUE,
                password_hash text NOT NULL,
                role text NOT NULL,
                created_at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE sessions (
                token_hash bytea PRIMARY KEY,
                user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at bigint NOT NULL,
                expires_at bigint NOT NULL
            )
            """,
            "CREATE INDEX sessions_user ON sessions (user_id)",
            "CREATE INDEX sessions_expires ON sessions (expires_at)",
            """
            CREATE TABLE enrollments (
                token_hash bytea PRIMARY KEY,
                name text NOT NULL,
                tags text NOT NULL,
                created_by text NOT NULL,
                created_at bigint NOT NULL,
                expires_at bigint NOT NULL,
                used_at bigint,
                node_id text
            )
            """,
            """
            CREATE TABLE nodes (
                id text PRIMARY KEY,
                name text NOT NULL,
                kind text NOT NULL,
                tags text NOT NULL,
                public_key bytea NOT NULL,
                device_token_hash bytea UNIQUE,
                agent_version text NOT NULL,
                inventory text NOT NULL,
                created_at bigint NOT NULL,
                last_seen bigint NOT NULL
            )
            """,
            """
            CREATE TABLE log_streams (
                node_id text NOT NULL,
                key text NOT NULL,
                source integer NOT NULL,
                name text NOT NULL,
                path text NOT NULL,
                metadata text NOT NULL,
                opened_at bigint NOT NULL,
                PRIMARY KEY (node_id, key)
            )
            """,
            """
            CREATE TABLE log_marks (
                node_id text NOT NULL,
                stream_key text NOT NULL,
                high_seq bigint NOT NULL,
                PRIMARY KEY (node_id, stream_key)
            )
            """,
            """
            CREATE TABLE logs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                node_id text NOT NULL,
                stream_key text NOT NULL,
                seq bigint NOT NULL,
                ts bigint NOT NULL,
                level integer NOT NULL,
                text text NOT NULL,
                tsv tsvector GENERATED ALWAYS AS
                    (to_tsvector('simple'::regconfig, regexp_replace(text, '[[:punct:]]+', ' ', 'g'))) STORED,
                UNIQUE (node_id, stream_key, seq)
            )
            """,
            "CREATE INDEX logs_ts ON logs (ts)",
            "CREATE INDEX logs_node_ts ON logs (node_id, ts)",
            "CREATE INDEX logs_tsv ON logs USING gin (tsv)",
            """
            CREATE TABLE rollups (
                node_id text NOT NULL,
                name text NOT NULL,
                resolution integer NOT NULL,
                bucket bigint NOT NULL,
                min double precision NOT NULL,
                max double precision NOT NULL,
                sum double precision NOT NULL,
                count bigint NOT NULL,
                PRIMARY KEY (node_id, name, resolution, bucket)
            )
            """,
            "CREATE INDEX rollups_retention ON rollups (resolution, bucket)",
            """
            CREATE TABLE audit (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at bigint NOT NULL,
                actor text NOT NULL,
                role text NOT NULL,
                action text NOT NULL,
                target text NOT NULL,
                detail text NOT NULL
            )
            """,
            "CREATE INDEX audit_at ON audit (at)",
            "CREATE INDEX audit_actor_at ON audit (actor, at)",
            """
            CREATE TABLE commands (
                id text PRIMARY KEY,
                actor text NOT NULL,
                command_line text NOT NULL,
                targets text NOT NULL,
                created_at bigint NOT NULL,
                timeout_ms bigint NOT NULL
            )
            """,
            "CREATE INDEX commands_created ON commands (created_at)",
            """
            CREATE TABLE command_results (
                command_id text NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
                node_id text NOT NULL,
                exit_code integer,
                signal integer,
                reason text NOT NULL,
                duration_ms bigint NOT NULL,
                stdout bytea NOT NULL,
                stderr bytea NOT NULL,
                finished_at bigint NOT NULL,
                PRIMARY KEY (command_id, node_id)
            )
            """,
            """
            CREATE TABLE settings (
                key text PRIMARY KEY,
                value text NOT NULL
            )
            """,
        ]
    ]
}
