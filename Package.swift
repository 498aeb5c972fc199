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
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "API", targets: ["API"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        // Already resolved for grpc-swift-nio-transport's TLS; the server reads client
        // certificates' common names (etcd's CN-as-user) with it.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.10.0"),
        // Already resolved for grpc-swift-nio-transport: TimedCertificateReloader re-reads
        // renewed certificates without a restart.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.27.0"),
        // Already resolved for grpc-swift-nio-transport: TLS on https metrics URLs.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
    ],
    targets: [
        .target(name: "Raft"),
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .target(name: "Storage", dependencies: ["Raft", "CLMDB", "CCrypto"]),
        // Generated from Protos/ by Protos/generate.sh (committed; no build plugin).
        .target(
            name: "API",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(name: "StorageCrashChild", dependencies: ["Storage"]),
        .executableTarget(name: "StorageBench", dependencies: ["Storage"]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // Snapshot archives: tar (libarchive) in zstd (libzstd) with SHA-256 (libcrypto).
        .target(name: "Backup", dependencies: ["CCrypto", "CZstd", "CArchive", "Storage"]),
        .target(
            name: "Server",
            dependencies: [
                "Raft", "Storage", "API", "CCrypto", "Backup",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                // /health, /metrics and the rest on --listen-metrics-urls (HTTP/1.1).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Restore into a fresh data-dir (from a cairn archive or an etcd snapshot); the runbook engine.
        .target(
            name: "Restore",
            dependencies: [
                "Backup", "Storage", "API",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Scheduled snapshots: cron expressions, retention, the catalog, the metrics file.
        .target(name: "Scheduler", dependencies: ["Backup", .product(name: "Logging", package: "swift-log")]),
        // `cairn bench`: load generation against any etcd v3 server, latency histograms.
        .target(
            name: "Bench",
            dependencies: [
                "API", "Raft", "Server",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        // The robustness suite's checkers: linearizability of a history, watch guarantees.
        .target(name: "Linearizability"),
        .executableTarget(
            name: "cairn",
            dependencies: [
                "Server", "Backup", "Restore", "Scheduler", "Bench",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "RaftTests", dependencies: ["Raft"]),
        .testTarget(name: "ServerTests", dependencies: ["Server"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench"]),
        .testTarget(name: "LinearizabilityTests", dependencies: ["Linearizability", "Raft"]),
        // Helpers for tests that run real processes: temp dirs, child processes, free ports, etcdctl.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // A TCP proxy per member's peer port that cuts chosen pairs of members, for partitions.
        .target(name: "PartitionProxy", path: "Tests/PartitionProxy"),
        .testTarget(name: "PartitionProxyTests", dependencies: ["PartitionProxy"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "StorageCrashChild", "TestSupport"]),
        // Drives `cairn server` (or etcd: CAIRN_COMPAT_SERVER=etcd) with the real etcdctl; see docs/compatibility.md.
        .testTarget(name: "BackupTests", dependencies: ["Backup", "Raft", "Storage", "TestSupport"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "Backup", "Storage", "Raft", "TestSupport",
            .product(name: "Logging", package: "swift-log")]),
        // Fixtures/ holds a snapshot made by a real etcd 3.4.23 (Fixtures/make-fixture.sh), found through #filePath.
        .testTarget(name: "RestoreTests", dependencies: ["Restore", "Backup", "Storage", "API", "Raft", "TestSupport",
            .product(name: "Yams", package: "Yams")],
            exclude: ["Fixtures"]),
        // Several `cairn server` processes on loopback: replication, failover, membership.
        .testTarget(
            name: "ClusterTests",
            dependencies: [
                "TestSupport", "PartitionProxy", "API", "Raft", "Storage", "Linearizability",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        .testTarget(
            name: "CompatibilityTests",
            dependencies: [
                "TestSupport", "API", "Raft",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            // Fixtures/tls: test-only certificates (make-certificates.sh), found through #filePath.
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
