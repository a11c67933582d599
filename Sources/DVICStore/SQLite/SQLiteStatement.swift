import CSQLite

/// A prepared statement. Owned and cached by one `SQLiteConnection` and used only on
/// the thread that currently holds that connection.
///
/// Binding and reading are thin, allocation-free calls on purpose: the log ingest
/// path binds six values per row, hundreds of rows per statement.
final class SQLiteStatement {
    private let handle: OpaquePointer
    let sql: String

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(self.handle)
    }

    // MARK: Binding (indexes start at 1, as in SQLite)

    func bind(_ value: Int64, at index: Int32) throws(StoreError) {
        try self.check(sqlite3_bind_int64(self.handle, index, value))
    }

    func bind(_ value: Int, at index: Int32) throws(StoreError) {
        try self.check(sqlite3_bind_int64(self.handle, index, Int64(value)))
    }

    func bind(_ value: Double, at index: Int32) throws(StoreError) {
        try self.check(sqlite3_bind_double(self.handle, index, value))
    }

    func bind(_ value: String, at index: Int32) throws(StoreError) {
        var value = value
        // SQLITE_TRANSIENT: SQLite copies the bytes, the Swift buffer may go away.
        let rc = value.withUTF8 { utf8 -> Int32 in
            guard let base = utf8.baseAddress, !utf8.isEmpty else {
                // An empty string stays an empty string, not NULL.
                return sqlite3_bind_text(self.handle, index, "", 0, dvic_sqlite_transient())
            }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) { text in
                sqlite3_bind_text(self.handle, index, text, Int32(utf8.count), dvic_sqlite_transient())
            }
        }
        try self.check(rc)
    }

    func bind(_ value: [UInt8], at index: Int32) throws(StoreError) {
        // A zero-length blob with a NULL pointer would bind SQL NULL; an empty
        // token or key must stay an empty blob.
        if value.isEmpty {
            try self.check(sqlite3_bind_zeroblob(self.handle, index, 0))
            return
        }
        let rc = value.withUnsafeBytes { bytes in
            sqlite3_bind_blob(self.handle, index, bytes.baseAddress, Int32(bytes.count), dvic_sqlite_transient())
        }
        try self.check(rc)
    }

    func bind(_ value: Int64?, at index: Int32) throws(StoreError) {
        if let value { try self.bind(value, at: index) } else { try self.bindNull(at: index) }
    }

    func bind(_ value: Int?, at index: Int32) throws(StoreError) {
        if let value { try self.bind(value, at: index) } else { try self.bindNull(at: index) }
    }

    func bind(_ value: String?, at index: Int32) throws(StoreError) {
        if let value { try self.bind(value, at: index) } else { try self.bindNull(at: index) }
    }

    func bind(_ value: [UInt8]?, at index: Int32) throws(StoreError) {
        if let value { try self.bind(value, at: index) } else { try self.bindNull(at: index) }
    }

    func bindNull(at index: Int32) throws(StoreError) {
        try self.check(sqlite3_bind_null(self.handle, index))
    }

    // MARK: Running

    /// Steps once: true when a row is ready to read, false when the statement is done.
    func step() throws(StoreError) -> Bool {
        let rc = sqlite3_step(self.handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw self.failure(rc)
        }
    }

    /// Steps to the end, ignoring rows.
    func run() throws(StoreError) {
        while try self.step() {}
    }

    /// Makes the statement reusable: resets it and drops the bindings (so no copy of a
    /// bound value outlives the call that bound it).
    func reset() {
        sqlite3_reset(self.handle)
        sqlite3_clear_bindings(self.handle)
    }

    // MARK: Reading the current row (columns start at 0)

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(self.handle, column) == SQLITE_NULL
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(self.handle, column)
    }

    func int(_ column: Int32) -> Int {
        Int(sqlite3_column_int64(self.handle, column))
    }

    func optionalInt64(_ column: Int32) -> Int64? {
        self.isNull(column) ? nil : self.int64(column)
    }

    func optionalInt(_ column: Int32) -> Int? {
        self.isNull(column) ? nil : self.int(column)
    }

    func double(_ column: Int32) -> Double {
        sqlite3_column_double(self.handle, column)
    }

    func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(self.handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(self.handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    func optionalString(_ column: Int32) -> String? {
        self.isNull(column) ? nil : self.string(column)
    }

    func blob(_ column: Int32) -> [UInt8] {
        guard let bytes = sqlite3_column_blob(self.handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(self.handle, column))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    func optionalBlob(_ column: Int32) -> [UInt8]? {
        self.isNull(column) ? nil : self.blob(column)
    }

    // MARK: Errors

    private func check(_ rc: Int32) throws(StoreError) {
        if rc != SQLITE_OK {
            throw self.failure(rc)
        }
    }

    private func failure(_ rc: Int32) -> StoreError {
        let database = sqlite3_db_handle(self.handle)
        let extended = database.map { sqlite3_extended_errcode($0) } ?? rc
        let message = database.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
        return SQLiteFailure(code: extended, message: message, context: self.sql).storeError
    }
}
