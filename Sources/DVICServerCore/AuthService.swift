public import DVICStore
internal import Crypto
internal import HummingbirdBcrypt
public import Logging

/// Users, passwords and bearer tokens.
///
/// Passwords are kept only as bcrypt hashes and tokens only as SHA-256 hashes, so
/// neither a copy of the database nor a log line gives anyone a way in. Verified
/// sessions are cached, so checking a token on every request costs no query.
public actor AuthService {
    public struct AuthError: Error, Hashable, CustomStringConvertible {
        private enum Code: Hashable { case badCredentials, unauthorized, forbidden, conflict, invalid, notFound }
        private let code: Code
        public let message: String
        private init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }
        public static let badCredentials = Self(.badCredentials, "wrong username or password")
        public static let unauthorized = Self(.unauthorized, "missing, unknown or expired token")
        public static func forbidden(_ required: Role) -> Self { .init(.forbidden, "this needs the \(required.rawValue) role") }
        public static func conflict(_ what: String) -> Self { .init(.conflict, what) }
        public static func invalid(_ what: String) -> Self { .init(.invalid, what) }
        public static let notFound = Self(.notFound, "no such user")
        public var httpStatus: Int {
            switch code {
            case .badCredentials, .unauthorized: 401
            case .forbidden: 403
            case .conflict: 409
            case .invalid: 400
            case .notFound: 404
            }
        }
        public var name: String {
            switch code {
            case .badCredentials: "bad_credentials"
            case .unauthorized: "unauthorized"
            case .forbidden: "forbidden"
            case .conflict: "conflict"
            case .invalid: "invalid_request"
            case .notFound: "not_found"
            }
        }
        public var description: String { message }
        public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
        public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    }

    private let store: any FleetStore
    private let clock: FleetClock
    private let logger: Logger
    private let sessionLifetimeMs: Int64
    private let bcryptCost: UInt8
    private var cache: [[UInt8]: (principal: Principal, expiresAt: Int64)] = [:]
    private var deviceCache: [[UInt8]: String] = [:]
    /// A real hash to check against for unknown usernames, so that a login for one
    /// costs as long as a wrong password does and timing does not tell which exist.
    private let decoyHash: String

    public init(store: any FleetStore, clock: FleetClock = .system, sessionLifetimeHours: Int = 12, bcryptCost: UInt8 = 10, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
        self.sessionLifetimeMs = Int64(sessionLifetimeHours) * 3_600_000
        self.bcryptCost = bcryptCost
        self.decoyHash = Bcrypt.hash("decoy", cost: bcryptCost)
    }

    public static func sha256(_ text: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(text.utf8)))
    }

    /// A random token of 32 bytes, URL-safe base64 without padding.
    public static func newToken(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return prefix + base64URL(bytes)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var n: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { n |= UInt32(byte) << (16 - 8 * UInt32(offset)) }
            for position in 0...chunk.count { out.append(table[Int(n >> (18 - 6 * UInt32(position)) & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Creates the admin on first start. Returns the password when it was generated
    /// (the caller prints it once); nil when an admin existed or one was given.
    public func bootstrapAdmin(password: String?) async throws(StoreError) -> String? {
        guard try await store.users().isEmpty else { return nil }
        let chosen = password ?? String(Self.newToken(prefix: "").prefix(20))
        let user = UserRecord(id: "u-admin", username: "admin", passwordHash: Bcrypt.hash(chosen, cost: bcryptCost), role: Role.admin.rawValue, createdAt: clock.now())
        try await store.createUser(user)
        logger.notice("created the admin account")
        return password == nil ? chosen : nil
    }

    /// Checks a password and opens a session: the token (given to the caller once) and its role.
    public func login(username: String, password: String) async throws(AuthError) -> (token: String, principal: Principal) {
        guard let user = try? await store.user(named: username), let role = Role(rawValue: user.role) else {
            _ = Bcrypt.verify(password, hash: decoyHash)
            throw .badCredentials
        }
        guard Bcrypt.verify(password, hash: user.passwordHash) else { throw .badCredentials }
        let token = Self.newToken(prefix: "dvt_")
        let now = clock.now()
        let session = SessionRecord(tokenHash: Self.sha256(token), userID: user.id, username: user.username, role: role.rawValue, createdAt: now, expiresAt: now + sessionLifetimeMs)
        do {
            try await store.saveSession(session)
        } catch {
            throw .invalid("could not open a session: \(error.message)")
        }
        let principal = Principal(username: user.username, role: role)
        cache[session.tokenHash] = (principal, session.expiresAt)
        return (token, principal)
    }

    /// The person behind a bearer token, or nil.
    public func authenticate(token: String) async -> Principal? {
        let hash = Self.sha256(token)
        let now = clock.now()
        if let cached = cache[hash] {
            if cached.expiresAt > now { return cached.principal }
            cache[hash] = nil
            return nil
        }
        guard let session = try? await store.session(tokenHash: hash), session.expiresAt > now, let role = Role(rawValue: session.role) else {
            return nil
        }
        let principal = Principal(username: session.username, role: role)
        cache[hash] = (principal, session.expiresAt)
        return principal
    }

    public func logout(token: String) async {
        let hash = Self.sha256(token)
        cache[hash] = nil
        _ = try? await store.deleteSession(tokenHash: hash)
    }

    public func createUser(username: String, password: String, role: Role) async throws(AuthError) -> UserRecord {
        guard Self.isUsername(username) else { throw .invalid("username must be 1-64 of a-z A-Z 0-9 . _ -") }
        guard password.utf8.count >= 8, password.utf8.count <= 72 else { throw .invalid("password must be 8 to 72 bytes") }
        let user = UserRecord(id: "u-" + String(Self.newToken(prefix: "").prefix(12)), username: username, passwordHash: Bcrypt.hash(password, cost: bcryptCost), role: role.rawValue, createdAt: clock.now())
        do {
            try await store.createUser(user)
        } catch where error.code == .conflict {
            throw .conflict("user \(username) exists")
        } catch {
            throw .invalid(error.message)
        }
        return user
    }

    public func users() async -> [UserRecord] {
        (try? await store.users()) ?? []
    }

    /// The node id of the device a keepalive token belongs to.
    public func device(token: String) async -> String? {
        let hash = Self.sha256(token)
        if let id = deviceCache[hash] { return id }
        guard let node = try? await store.node(deviceTokenHash: hash) else { return nil }
        deviceCache[hash] = node.id
        return node.id
    }

    public func forgetDevice(nodeID: String) {
        deviceCache = deviceCache.filter { $0.value != nodeID }
    }

    static func isUsername(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }
}
