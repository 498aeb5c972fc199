import ArgumentParser
import Backup
import Foundation
import Server

/// `cairn snapshot …`: save, inspect and verify snapshot archives.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Save, inspect and verify snapshot archives (tar + zstd, with a manifest and SHA-256 sums).",
        subcommands: [Save.self, Status.self, Verify.self, Restore.self, List.self, Audit.self]
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Rows under a header row, each column as wide as its widest cell (the last one unpadded).
    static func printColumns(_ rows: [[String]]) {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }

    static func printTable(_ rows: [(String, String)]) {
        let width = rows.map(\.0.count).max() ?? 0
        for (name, value) in rows {
            print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }

    /// `--encrypt-key-file`: the AES-256 key that seals archives written, and opens archives read.
    struct EncryptionOption: ParsableArguments {
        @Option(name: .customLong("encrypt-key-file"),
            help: "A file holding a 32-byte key (raw, or 64 hex digits as `openssl rand -hex 32` writes), mode 0600: encrypts the archive with AES-256-GCM, or opens an encrypted one.")
        var path: String?

        func key() throws -> EncryptionKey? {
            guard let path else { return nil }
            do {
                return try EncryptionKey.load(path: path)
            } catch {
                throw CommandFailure.exit(BackupError("encryption", at: path, "\(error)"))
            }
        }
    }

    /// `sha256` nil: not computed (the quick status reads only the manifest).
    static func rows(_ manifest: SnapshotManifest, sha256: String?, compressedBytes: Int) -> [(String, String)] {
        [
            ("hash", "\(manifest.kvHash)"),
            ("revision", "\(manifest.revision)"),
            ("total keys", "\(manifest.keyCount)"),
            ("total size", "\(manifest.databaseBytes)"),
            ("compact revision", "\(manifest.compactRevision)"),
            ("raft index", "\(manifest.raftIndex)"),
            ("raft term", "\(manifest.raftTerm)"),
            ("cluster id", manifest.clusterID),
            ("member id", manifest.memberID),
            ("member name", manifest.memberName),
            ("source", manifest.source),
            ("server version", manifest.serverVersion),
            ("created at", manifest.createdAt),
            ("tool version", manifest.toolVersion),
            ("format version", "\(manifest.formatVersion)"),
            ("database sha256", manifest.databaseSHA256),
            ("archive sha256", sha256 ?? "not computed (see FILE.sha256, or status --full)"),
            ("archive size", "\(compressedBytes)"),
        ]
    }

    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a snapshot archive of a running server (--endpoints) or of a stopped member's data-dir (--data-dir).",
            discussion: """
                Writes FILE.part, fsyncs it and renames it to FILE, then writes FILE.sha256 \
                (sha256sum format). A failed or interrupted save leaves no FILE. The endpoint \
                may be a cairn server or an etcd 3.4+ server (its bbolt file is stored, with a \
                manifest that says so).
                """
        )

        @Argument(help: "The archive to write.") var file: String
        @Option(help: "The client URL of one server, e.g. http://127.0.0.1:2379 or https://….") var endpoints: String?
        @OptionGroup var client: ClientOptions
        @Option(help: "The data-dir of a stopped member (its member/snap/db is read).") var dataDir: String?
        @Flag(help: "Replace FILE if it exists.") var force = false
        @Option(help: "zstd compression level, 1 (fast) to 19 (small).") var level: Int32 = 3
        @Option(name: [.customShort("w"), .long], help: "Output format: table or json (the manifest).")
        var writeOut: OutputFormat = .table
        @OptionGroup var encryption: EncryptionOption

        func validate() throws {
            guard (1...19).contains(level) else { throw ValidationError("--level must be between 1 and 19, not \(level)") }
            guard (endpoints == nil) != (dataDir == nil) else {
                throw ValidationError("give exactly one of --endpoints (a running server) and --data-dir (a stopped member)")
            }
            if let endpoints, endpoints.contains(",") {
                throw ValidationError("--endpoints: a snapshot comes from one server; give one URL, not \(endpoints)")
            }
        }

        func run() async throws {
            let started = ContinuousClock.now
            let saved: (manifest: SnapshotManifest, sha256: String, bytes: Int)
            let key = try encryption.key()
            do {
                if let endpoints {
                    let meter = ProgressMeter(enabled: isatty(STDERR_FILENO) == 1)
                    saved = try await OnlineSnapshot.save(endpoint: endpoints, access: client.access, to: file, force: force, level: level,
                        toolVersion: Cairn.version, encryptionKey: key) { meter.report(bytes: $0.bytes, total: $0.estimatedTotal) }
                    meter.finish()
                } else {
                    saved = try await OfflineSnapshot.save(dataDirectory: dataDir ?? "", to: file, force: force, level: level,
                        toolVersion: Cairn.version, encryptionKey: key)
                }
            } catch {
                throw CommandFailure.exit(error)
            }
            switch writeOut {
            case .json: try SnapshotCommand.printJSON(saved.manifest)
            case .table:
                print("Snapshot saved at \(file) (\(saved.bytes) bytes, \(saved.manifest.databaseBytes) bytes of database, \(ContinuousClock.now - started))"
                    + (key.map { ", encrypted with key \($0.fingerprint)" } ?? ""))
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a snapshot archive holds: etcdutl's hash, revision, keys and size, and its manifest.")

        @Argument(help: "The archive.") var file: String
        @Option(name: [.customShort("w"), .long], help: "Output format: table or json.") var writeOut: OutputFormat = .table
        @Flag(help: "Read the whole archive (and check its zstd and tar layers) instead of the manifest at its end.")
        var full = false
        @OptionGroup var encryption: EncryptionOption

        func run() async throws {
            let manifest: SnapshotManifest
            var rows: [(String, String)]
            let key = try encryption.key()
            do {
                if !full, let quick = try SnapshotArchiveReader.quickManifest(path: file) {
                    manifest = quick
                    let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
                    rows = SnapshotCommand.rows(manifest, sha256: nil, compressedBytes: size)
                } else {
                    // An encrypted archive's manifest is inside the encryption: read it whole.
                    let report = try SnapshotArchiveReader.read(path: file, encryptionKey: key)
                    manifest = report.manifest
                    rows = SnapshotCommand.rows(manifest, sha256: report.sha256, compressedBytes: report.compressedBytes)
                    if let fingerprint = report.keyFingerprint { rows.append(("encryption", "AES-256-GCM, key \(fingerprint)")) }
                }
            } catch {
                throw CommandFailure.exit(error)
            }
            switch writeOut {
            case .json: try SnapshotCommand.printJSON(manifest)
            case .table: SnapshotCommand.printTable(rows)
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a snapshot archive: outer SHA-256, zstd checksums, tar members, member SHA-256s, every database record.",
            discussion: "Exits 0 only when every check passes. --deep also recomputes the KV hash, key count and revision range.")

        @Argument(help: "The archive.") var file: String
        @Flag(help: "Recompute the KV hash, key count and revision range and compare them with the manifest.") var deep = false
        @OptionGroup var encryption: EncryptionOption

        func run() async throws {
            let key = try encryption.key()
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-verify-\(UUID().uuidString)").path
            do {
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                let report = try SnapshotArchiveReader.read(path: file, databaseDirectory: scratch, deep: deep, encryptionKey: key)
                for check in report.checks { print("\(check.name): \(check.result)") }
                print("\(file): OK")
            } catch {
                FileHandle.standardError.write(Data("\(file): FAILED: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}

/// Bytes, rate and time left on stderr, rewritten in place at most ten times a second; silent
/// when stderr is not a terminal (cron, systemd).
final class ProgressMeter: @unchecked Sendable {
    private let enabled: Bool
    private let started = ContinuousClock.now
    private var lastPrinted = ContinuousClock.now - .seconds(1)
    private let lock = NSLock()

    init(enabled: Bool) { self.enabled = enabled }

    func report(bytes: Int, total: Int) {
        guard enabled else { return }
        lock.withLock {
            let now = ContinuousClock.now
            guard now - lastPrinted >= .milliseconds(100) else { return }
            lastPrinted = now
            let seconds = max(0.001, Double((now - started).components.attoseconds) / 1e18 + Double((now - started).components.seconds))
            let rate = Double(bytes) / seconds
            let left = rate > 0 ? Double(max(0, total - bytes)) / rate : 0
            let line = String(format: "\r%.1f MiB of ~%.1f MiB, %.1f MiB/s, %.0f s left ", Double(bytes) / 1048576,
                Double(total) / 1048576, rate / 1048576, left)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
