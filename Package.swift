// swift-tools-version:6.0
import PackageDescription

// vigil is one static binary. Module layout (see docs/design.md):
// - VigilCore: pure logic (configuration, health model, supervisor state machine, rendering). No I/O.
// - CVigilSystem / VigilSystem: the process layer (signals, spawn, reaping, syscalls).
// - VigilAgent: the running agent on SwiftNIO (checks, probe server, client commands, logging).
// - vigil: the executable's entry point and command line.
// vigil-lint, the gitops gate (docs/gitops.md), is a second executable that the agent never links:
// - VigilLintCore: its rules, the YAML-to-model mapping and the reports, on VigilCore. No I/O.
// - VigilLint: files, stdin and Yams (libyaml, Foundation) around it; vigil-lint: its main.swift.
let package = Package(
    name: "vigil",
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        // The gitops gate (docs/gitops.md): a pipeline tool, never in images; Yams and Foundation.
        .executable(name: "vigil-lint", targets: ["vigil-lint"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // HTTP/2 for grpc:// checks only (docs/design.md has what it costs).
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .target(name: "CVigilSystem"),
        .target(name: "VigilCore"),
        .target(
            name: "VigilSystem",
            dependencies: ["CVigilSystem", "VigilCore"]
        ),
        .target(
            name: "VigilAgent",
            dependencies: [
                "VigilCore",
                "VigilSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "vigil",
            dependencies: ["VigilAgent", "VigilCore", "VigilSystem"]
        ),
        // vigil-lint: the rules and reports (pure, on VigilCore), the I/O and Yams around them, main.
        .target(name: "VigilLintCore", dependencies: ["VigilCore"]),
        .target(
            name: "VigilLint",
            dependencies: ["VigilLintCore", .product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(name: "vigil-lint", dependencies: ["VigilLint"]),
        .testTarget(
            name: "VigilLintTests",
            dependencies: ["VigilLint", "VigilLintCore", "VigilCore"]
        ),
        .testTarget(
            name: "VigilCoreTests",
            dependencies: ["VigilCore"]
        ),
        // The NIO layer in-process: EmbeddedEventLoop's virtual time instead of real waiting.
        .testTarget(
            name: "VigilAgentTests",
            dependencies: [
                "VigilAgent",
                "VigilCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
    ],
    // Swift 6: the agent's parts are confined to one event loop, which the compiler checks
    // through NIO's `assumeIsolated()` and `NIOLoopBound`.
    swiftLanguageModes: [.v6]
)
