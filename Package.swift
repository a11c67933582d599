// swift-tools-version: 6.1
import PackageDescription

// One settings array for every target, so the whole package is held to the same rules.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "dvic-monitoring",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DVICProtocol", targets: ["DVICProtocol"]),
        .library(name: "DVICCompression", targets: ["DVICCompression"]),
        .library(name: "DVICLogFormat", targets: ["DVICLogFormat"]),
        .library(name: "DVICLog", targets: ["DVICLog"]),
        .library(name: "DVICStore", targets: ["DVICStore"]),
        .library(name: "DVICServerCore", targets: ["DVICServerCore"]),
        .library(name: "DVICServer", targets: ["DVICServer"]),
        .library(name: "DVICTesting", targets: ["DVICTesting"]),
        .executable(name: "dvic-server", targets: ["dvic-server"]),
        .executable(name: "dvic-agent", targets: ["dvic-agent"]),
        .library(name: "DVICAgentCore", targets: ["DVICAgentCore"]),
        .executable(name: "dvic", targets: ["dvic"]),
        .executable(name: "dvic-loadtest", targets: ["dvic-loadtest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // 4.x: its Linux build uses FoundationEssentials, not Foundation, which keeps the agent small.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // SSH installs (issue #8): the client side only, password authentication.
        .package(url: "https://github.com/apple/swift-nio-ssh.git", from: "0.15.1"),
    ],
    targets: [
        // The system's libz (Debian: zlib1g-dev); no vendored copy.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "DVICCompression",
            dependencies: [
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DVICProtocol",
            dependencies: [
                "DVICCompression",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DVICLogFormat",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DVICLog",
            dependencies: [
                "DVICLogFormat",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Debian's libsqlite3 (3.40, with FTS5); wrapped by hand in DVICStore.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "DVICStore",
            dependencies: [
                "CSQLite",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The server's actors: value-type cores and their shells, no HTTP.
        .target(
            name: "DVICServerCore",
            dependencies: [
                "DVICProtocol",
                "DVICStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP, WebSocket endpoints, Prometheus: Hummingbird around the actors.
        .target(
            name: "DVICServer",
            dependencies: [
                "DVICProtocol",
                "DVICAgentCore",
                "DVICInstall",
                "DVICLogFormat",
                "DVICStore",
                "DVICServerCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                // Agent builds: file work on NIO's thread pool.
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.copy("Resources/dashboard")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dvic-server",
            dependencies: [
                "DVICServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The `dvic` CLI: the commands' logic and value-type cores (no ArgumentParser).
        .target(
            name: "DVICCLI",
            dependencies: [
                "DVICProtocol",
                "DVICLogFormat",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dvic",
            dependencies: [
                "DVICCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DVICCLITests",
            dependencies: [
                "DVICCLI",
                "DVICProtocol",
                "DVICTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Installs the agent on a machine over SSH (password login, pinned host key, sudo -S).
        // Used by the agent (installs "via" a source node) and by the server (`--via server`).
        .target(
            name: "DVICInstall",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSH", package: "swift-nio-ssh"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // forkpty, terminal sizes and posix_spawn into a new process group.
        .target(name: "CPty", linkerSettings: [.linkedLibrary("util")]),
        // The agent: collectors, log tailing, spool, commands, terminals, connection.
        // No Foundation (FoundationEssentials at most), so the agent stays small.
        .target(
            name: "DVICAgentCore",
            dependencies: [
                "DVICProtocol", "DVICLogFormat", "CPty", "DVICInstall",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dvic-agent",
            dependencies: [
                "DVICAgentCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Simulated agents and a server on port 0, for tests and the load test.
        .target(
            name: "DVICTesting",
            dependencies: [
                "CPty",
                "DVICProtocol",
                "DVICServer",
                "DVICServerCore",
                "DVICStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The load test (issue #9): thousands of simulated agents against one server. In the
        // main package so that CI's single debug build makes it too.
        .executableTarget(
            name: "dvic-loadtest",
            dependencies: [
                "DVICProtocol",
                "DVICTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // libFuzzer entry point over the frame decoder; `tools/fuzz` builds it with
        // `--sanitize=fuzzer`. In an ordinary build it is an inert executable, which
        // keeps it compiling with the rest of the package.
        .executableTarget(
            name: "DVICProtocolFuzz",
            dependencies: [
                "DVICProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DVICProtocolTests",
            dependencies: [
                "DVICProtocol",
                "DVICCompression",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DVICInstallTests",
            dependencies: [
                "DVICInstall",
                .product(name: "Crypto", package: "swift-crypto"),
                "DVICProtocol",
                "DVICServer",
                "DVICServerCore",
                "DVICTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DVICStoreTests",
            dependencies: ["DVICStore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DVICServerTests",
            dependencies: [
                "DVICProtocol",
                "DVICLog",
                "DVICStore",
                "DVICServerCore",
                "DVICServer",
                "DVICTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "WSClient", package: "swift-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DVICAgentCoreTests",
            dependencies: [
                "DVICAgentCore", "DVICProtocol", "DVICLogFormat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DVICLogFormatTests",
            dependencies: ["DVICLogFormat"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DVICLogTests",
            dependencies: [
                "DVICLog",
                "DVICLogFormat",
                "DVICTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
