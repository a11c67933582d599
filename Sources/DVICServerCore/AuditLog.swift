public import DVICStore
public import Logging

/// Who did what, where and when: every command, terminal session, login and change
/// of users, enrollments and devices. Records are durable before the action answers.
public struct AuditLog: Sendable {
    private let store: any FleetStore
    private let clock: FleetClock
    private let logger: Logger

    public init(store: any FleetStore, clock: FleetClock = .system, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    public func record(_ principal: Principal, action: String, target: String, detail: [String: String] = [:]) async {
        let record = AuditRecord(at: clock.now(), actor: principal.username, role: principal.role.rawValue, action: action, target: target, detail: detail)
        do {
            _ = try await store.appendAudit(record)
        } catch {
            // Losing an audit record is serious but must not hide the action itself.
            logger.error("audit record not stored", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }

    public func list(since: Int64?, until: Int64?, actor: String?, limit: Int) async throws(StoreError) -> [AuditRecord] {
        try await store.audit(since: since, until: until, actor: actor, limit: limit)
    }
}
