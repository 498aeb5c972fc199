// swift-tools-version: 6.1
import PackageDescription

// Dependencies flow one way: cairn -> {Server, Backup, Verify, Restore, Scheduler} -> {Storage, API} -> Raft.
// Raft depends on nothing but the standard library. Targets join this file as their issues land.
let package = Package(
    name: "cairn",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        .library(name: "Raft", targets: ["Raft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "Raft"),
        .executableTarget(
            name: "cairn",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "RaftTests", dependencies: ["Raft"]),
    ],
    swiftLanguageModes: [.v6]
)
