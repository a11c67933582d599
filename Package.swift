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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
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
            name: "DVICLogFormatTests",
            dependencies: ["DVICLogFormat"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DVICLogTests",
            dependencies: [
                "DVICLog",
                "DVICLogFormat",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
