import CSQLite

/// SQLite's own report of a failed call: the cause inside a `StoreError`.
struct SQLiteFailure: Error, CustomStringConvertible {
    // Extended codes are C macros built from expressions, which Swift does not import.
    static let constraintUnique: Int32 = SQLITE_CONSTRAINT | (8 << 8)
    static let constraintPrimaryKey: Int32 = SQLITE_CONSTRAINT | (6 << 8)
    static let constraintForeignKey: Int32 = SQLITE_CONSTRAINT | (3 << 8)

    /// The extended result code (`sqlite3_extended_errcode`).
    let code: Int32
    let message: String
    /// Our SQL (never bound values, which may be user data), or what was being done.
    let context: String

    var description: String {
        "SQLite error \(self.code) (\(String(cString: sqlite3_errstr(self.code)))): \(self.message) [\(self.context)]"
    }

    /// Maps SQLite's result codes onto the store's error codes.
    var storeError: StoreError {
        let code: StoreError.Code
        switch self.code {
        case Self.constraintUnique, Self.constraintPrimaryKey:
            code = .conflict
        case Self.constraintForeignKey:
            code = .notFound
        default:
            switch self.code & 0xff {
            case SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_FULL, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_PERM,
                SQLITE_AUTH, SQLITE_NOLFS, SQLITE_PROTOCOL:
                code = .unavailable
            case SQLITE_CORRUPT, SQLITE_NOTADB:
                code = .corrupt
            case SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_TOOBIG, SQLITE_RANGE:
                code = .invalidArgument
            default:
                code = .backend
            }
        }
        return StoreError(code: code, message: "SQLite: \(self.message)", cause: self)
    }
}
