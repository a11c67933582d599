public import DVICServer
public import DVICStore
import Foundation
public import Logging
import ServiceLifecycle

/// A real `dvic-server` in this process on a free port with a temporary store, for
/// tests and the load test's in-process mode. `stop()` shuts it down gracefully (so
/// buffered writes are flushed, as on SIGTERM).
public final class FleetHarness: Sendable {
    public let server: FleetServer
    public let port: Int
    public let dataDirectory: String
    public let adminPassword: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var agentURL: String { "ws://127.0.0.1:\(port)/v1/agent" }
    public var streamURL: String { "ws://127.0.0.1:\(port)/v1/stream" }

    /// - Parameters:
    ///   - dataDirectory: reuse a directory to restart "the same" server; nil makes a new one.
    ///   - databaseURL: nil for SQLite in the data directory.
    ///   - postgresSchema: with a `postgres://` URL, the schema to keep this server's
    ///     tables in, so that tests sharing one database do not see each other's data.
    public static func start(
        dataDirectory: String? = nil, databaseURL: String? = nil, postgresSchema: String? = nil,
        configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
        logLevel: Logger.Level = .warning
    ) async throws -> FleetHarness {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.dataDirectory = dataDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("dvic-test-\(UUID().uuidString)").path
        configuration.databaseURL = databaseURL
        configuration.adminPassword = "admin-password"
        configuration.bcryptCost = 4
        configure(&configuration)
        var logger = Logger(label: "dvic-test-server")
        logger.logLevel = logLevel
        let store: any FleetStore
        if let databaseURL, let postgresSchema {
            store = try PostgresFleetStore(url: databaseURL, schema: postgresSchema, logger: logger)
        } else {
            store = try await FleetServer.openStore(configuration)
        }
        let server = FleetServer(configuration: configuration, store: store, logger: logger)
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let application = server.makeApplication { port in portContinuation.yield(port) }
        let group = ServiceGroup(configuration: .init(
            services: server.services(application: application).map { .init(service: $0) }, logger: logger))
        let task = Task {
            // If the server fails to start, the wait for its port below ends too.
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError("the server did not start") }
        return FleetHarness(server: server, port: port, dataDirectory: configuration.dataDirectory, adminPassword: configuration.adminPassword!, group: group, task: task)
    }

    private init(server: FleetServer, port: Int, dataDirectory: String, adminPassword: String, group: ServiceGroup, task: Task<Void, any Error>) {
        self.server = server
        self.port = port
        self.dataDirectory = dataDirectory
        self.adminPassword = adminPassword
        self.group = group
        self.task = task
    }

    /// Graceful shutdown; returns when every service has stopped.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// An HTTP client logged in as admin.
    public func adminClient() async throws -> APIClient {
        try await APIClient.login(baseURL: baseURL, username: "admin", password: adminPassword)
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
