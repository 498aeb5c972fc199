import Foundation

/// The snapshot made by a real etcd (`Fixtures/make-fixture.sh`) and what etcdctl said about it.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let snapshotPath = directory.appendingPathComponent("etcd-3.4.23.snapshot.db").path
    static let expectedPath = directory.appendingPathComponent("expected.json").path

    static func expected() throws -> ExpectedFixture {
        try JSONDecoder().decode(ExpectedFixture.self, from: Data(contentsOf: URL(fileURLWithPath: expectedPath)))
    }

    static func snapshotBytes() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: snapshotPath)))
    }

    /// The 100 KiB value make-fixture.sh stores at /registry/blobs/ns/big, rebuilt the same way.
    static func bigValue() -> [UInt8] {
        var text = ""
        for line in 0..<3200 {
            text += "blob-line-\(String(repeating: "0", count: 5 - String(line).count))\(line)-padding-0123456789\n"
        }
        return Array(text.utf8.prefix(102_400))
    }

    /// Runs `body` with a fresh directory, removed afterwards.
    static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("etcdbolt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    /// Writes `bytes` to `name` in `directory` and returns its path.
    static func write(_ bytes: [UInt8], named name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// SHA-256 of the first `length` bytes of `path`, by the coreutils tools, as cairn's
    /// OpenSSL wrapper would compute it.
    static func sha256(path: String, length: Int) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "head -c \"$1\" \"$2\" | /usr/bin/sha256sum", "sh", String(length), path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(data: data, encoding: .utf8) else {
            throw ToolFailure(message: "sha256sum over '\(path)' exited with status \(process.terminationStatus)")
        }
        let hex = Array(line.utf8.prefix(64))
        return stride(from: 0, to: hex.count, by: 2).compactMap { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) }
    }
}

struct ToolFailure: Error {
    let message: String
}

/// The parts of expected.json the tests compare against.
struct ExpectedFixture: Decodable {
    struct KeyValue: Decodable {
        let key: String
        let value: String?
        let create_revision: Int64
        let mod_revision: Int64
        let version: Int64
        let lease: Int64?
    }

    struct Range: Decodable {
        let kvs: [KeyValue]
    }

    struct TimeToLive: Decodable {
        let id: Int64
        let grantedTTL: Int64
        let keys: [String]?

        enum CodingKeys: String, CodingKey {
            case id, keys
            case grantedTTL = "granted-ttl"
        }
    }

    struct Leases: Decodable {
        let withKeysHex: String
        let bareHex: String
        let withKeysTimeToLive: TimeToLive
        let bareTimeToLive: TimeToLive
    }

    struct BigValue: Decodable {
        let keyBase64: String
        let length: Int
        let sha256: String
    }

    struct EndpointStatus: Decodable {
        struct Status: Decodable {
            struct Header: Decodable {
                let member_id: UInt64
            }
            let header: Header
            let raftAppliedIndex: UInt64
            let dbSize: Int
        }
        let Status: Status
    }

    struct SnapshotStatus: Decodable {
        let hash: UInt32
        let revision: Int64
        let totalKey: Int
        let totalSize: Int
    }

    let compactRevision: Int64
    let headerRevision: Int64
    let finalRevision: Int64
    let leases: Leases
    let bigValue: BigValue
    let range: Range
    let endpointStatus: [EndpointStatus]
    let snapshotStatus: SnapshotStatus
}
