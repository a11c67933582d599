import PostgresNIO

extension StoreError {
    /// Maps a postgres-nio error onto the store's codes by SQLSTATE. The message
    /// carries the server's primary message (constraint and type names); values,
    /// which PostgreSQL puts in `detail`, stay in `cause` only.
    init(postgres error: any Error, context: String) {
        if let error = error as? StoreError {
            self = error
            return
        }
        // withTransaction wraps what failed (our closure's StoreError included).
        if let transaction = error as? PostgresTransactionError,
            let inner = transaction.closureError ?? transaction.commitError ?? transaction.beginError
        {
            self.init(postgres: inner, context: context)
            return
        }
        if error is CancellationError || Task.isCancelled {
            self.init(code: .cancelled, message: "\(context): the calling task was cancelled", cause: error)
            return
        }
        guard let psql = error as? PSQLError else {
            // ConnectionPoolError and others: without a SQLSTATE nothing finer is known.
            self.init(code: .backend, message: "\(context): \(type(of: error))", cause: error)
            return
        }
        switch psql.code {
        case .server:
            let state = psql.serverInfo?[.sqlState] ?? ""
            // The server's primary message names constraints and types, not values
            // (those are in `detail`, which stays out).
            let message = "\(context): PostgreSQL \(state): \(psql.serverInfo?[.message] ?? "error")"
            let code: StoreError.Code
            switch state {
            case "23505": code = .conflict
            case "23503": code = .notFound
            case "XX001", "XX002": code = .corrupt
            case "57014": code = .cancelled
            default:
                switch state.prefix(2) {
                case "08", "28", "3D", "53", "57", "58": code = .unavailable
                case "22", "23": code = .invalidArgument
                default: code = .backend
                }
            }
            self.init(code: code, message: message, cause: psql)
        case .poolClosed, .clientClosedConnection:
            self.init(code: .closed, message: "\(context): the PostgreSQL client is closed", cause: psql)
        case .queryCancelled:
            self.init(code: .cancelled, message: "\(context): the query was cancelled", cause: psql)
        case .connectionError, .serverClosedConnection, .sslUnsupported, .failedToAddSSLHandler, .uncleanShutdown,
            .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            self.init(code: .unavailable, message: "\(context): cannot reach PostgreSQL (\(psql.code))", cause: psql)
        default:
            self.init(code: .backend, message: "\(context): \(psql.code)", cause: psql)
        }
    }
}
