// swift-tools-version: 6.1
import PackageDescription

import class Foundation.ProcessInfo
import struct Foundation.URL

// A path dependency's identity is its folder's name, which differs between
// checkouts (CI clones under another name), so derive it instead of hard-coding it.
let rootIdentity = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent
    .lowercased()

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // Deterministic realistic inputs shared by both executables below.
        .target(
            name: "BenchCorpus",
            dependencies: [.product(name: "DVICProtocol", package: rootIdentity)],
            path: "Sources/BenchCorpus",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ProtocolBenchmarks",
            dependencies: [
                "BenchCorpus",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DVICProtocol", package: rootIdentity),
                .product(name: "DVICCompression", package: rootIdentity),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/ProtocolBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Bytes on the wire, against the previous JSON design, and the dictionary decision.
        .executableTarget(
            name: "WireSizes",
            dependencies: [
                "BenchCorpus",
                .product(name: "DVICProtocol", package: rootIdentity),
                .product(name: "DVICCompression", package: rootIdentity),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/WireSizes",
            swiftSettings: swiftSettings
        ),
    ]
)
