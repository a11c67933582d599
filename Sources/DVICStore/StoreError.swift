/// The one error every `FleetStore` method throws.
///
/// A struct rather than an enum so that a new kind of failure never breaks a caller's
/// exhaustive `switch`: callers compare `code` against the static members they care
/// about and treat everything else as a generic storage failure.
///
/// `message` and `description` never contain user payloads, passwords or token
/// hashes, so they can go into logs as they are. `cause` keeps the driver's own error
/// for debugging; it may quote values (PostgreSQL's `detail`), so log it only at
/// debug level.
public struct StoreError: Error, CustomStringConvertible {
    /// What went wrong, as far as a caller needs to branch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case conflict
            case notFound
            case enrollmentUnknown
            case enrollmentExpired
            case enrollmentAlreadyUsed
            case invalidArgument
            case unavailable
            case corrupt
            case incompatibleSchema
            case closed
            case cancelled
            case backend
        }

        private let value: Value

        private init(_ value: Value) {
            self.value = value
        }

        /// A unique key (username, node id, device token, command id, …) is taken.
        public static let conflict = Code(.conflict)
        /// The row to update or refer to does not exist.
        public static let notFound = Code(.notFound)
        /// `consumeEnrollment`: no enrollment has this token hash.
        public static let enrollmentUnknown = Code(.enrollmentUnknown)
        /// `consumeEnrollment`: the enrollment's `expiresAt` has passed.
        public static let enrollmentExpired = Code(.enrollmentExpired)
        /// `consumeEnrollment`: the enrollment was used already (possibly by a racing call).
        public static let enrollmentAlreadyUsed = Code(.enrollmentAlreadyUsed)
        /// The caller passed something the store cannot take (a malformed URL, a bad schema name, …).
        public static let invalidArgument = Code(.invalidArgument)
        /// The database cannot be opened, reached, written (disk full, read-only, I/O error) or is busy.
        public static let unavailable = Code(.unavailable)
        /// The file is not a database or its content is damaged.
        public static let corrupt = Code(.corrupt)
        /// The database was written by a newer version of this software.
        public static let incompatibleSchema = Code(.incompatibleSchema)
        /// `close()` was called (or the PostgreSQL client stopped running).
        public static let closed = Code(.closed)
        /// The calling task was cancelled before the work started; nothing was written.
        public static let cancelled = Code(.cancelled)
        /// Any other failure of the database engine or driver.
        public static let backend = Code(.backend)

        public var description: String {
            switch self.value {
            case .conflict: "conflict"
            case .notFound: "notFound"
            case .enrollmentUnknown: "enrollmentUnknown"
            case .enrollmentExpired: "enrollmentExpired"
            case .enrollmentAlreadyUsed: "enrollmentAlreadyUsed"
            case .invalidArgument: "invalidArgument"
            case .unavailable: "unavailable"
            case .corrupt: "corrupt"
            case .incompatibleSchema: "incompatibleSchema"
            case .closed: "closed"
            case .cancelled: "cancelled"
            case .backend: "backend"
            }
        }
    }

    public let code: Code
    public let message: String
    /// The driver's own error, when there is one.
    public let cause: (any Error)?

    public init(code: Code, message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause {
            return "StoreError(\(self.code)): \(self.message) (cause: \(type(of: cause)))"
        }
        return "StoreError(\(self.code)): \(self.message)"
    }

    public static func conflict(_ message: String, cause: (any Error)? = nil) -> Self {
        Self(code: .conflict, message: message, cause: cause)
    }

    public static func notFound(_ message: String, cause: (any Error)? = nil) -> Self {
        Self(code: .notFound, message: message, cause: cause)
    }

    public static func invalidArgument(_ message: String, cause: (any Error)? = nil) -> Self {
        Self(code: .invalidArgument, message: message, cause: cause)
    }

    public static func unavailable(_ message: String, cause: (any Error)? = nil) -> Self {
        Self(code: .unavailable, message: message, cause: cause)
    }

    public static func closed(_ message: String = "the store is closed", cause: (any Error)? = nil) -> Self {
        Self(code: .closed, message: message, cause: cause)
    }

    public static func backend(_ message: String, cause: (any Error)? = nil) -> Self {
        Self(code: .backend, message: message, cause: cause)
    }
}
