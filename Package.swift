// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "prsm-node",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "prsm-node", targets: ["prsm-node"]),
        .executable(name: "prsm-sim", targets: ["prsm-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "PRSMCrypto", dependencies: ["CSodium"], swiftSettings: strict),
        .target(
            name: "PRSMWire",
            dependencies: [
                "PRSMCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PRSMCore",
            dependencies: [
                "PRSMWire",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PRSMNode",
            dependencies: [
                "PRSMCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PRSMTransportNIO",
            dependencies: [
                "PRSMNode",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "prsm-node",
            dependencies: [
                "PRSMNode",
                "PRSMTransportNIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PRSMSim",
            dependencies: [
                "PRSMNode", "CSodium", "PRSMTransportNIO",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Simulations/PRSMSim",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "prsm-sim",
            dependencies: [
                "PRSMSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Simulations/prsm-sim",
            swiftSettings: strict
        ),
        .testTarget(name: "PRSMCryptoTests", dependencies: ["PRSMCrypto"], swiftSettings: strict),
        .testTarget(name: "PRSMWireTests", dependencies: ["PRSMWire"], swiftSettings: strict),
        .testTarget(name: "PRSMCoreTests", dependencies: ["PRSMCore"], swiftSettings: strict),
        .testTarget(
            name: "PRSMNodeTests",
            dependencies: [
                "PRSMNode",
                // HummingbirdTesting is left out on purpose: it pulls in AsyncHTTPClient and two
                // BoringSSL builds, minutes of every clean build. Tests use a plain HTTP/1.1 client.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PRSMSimTests",
            dependencies: ["PRSMSim", "PRSMNode"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PRSMLoopbackTests",
            dependencies: ["PRSMSim", "PRSMTransportNIO", "PRSMNode", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PRSMTransportNIOTests",
            dependencies: ["PRSMTransportNIO", "PRSMNode"],
            swiftSettings: strict
        ),
    ]
)
