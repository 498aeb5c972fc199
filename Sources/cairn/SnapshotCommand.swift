import ArgumentParser
import Backup
import Foundation

/// `cairn snapshot …`: save, inspect and verify snapshot archives.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Save, inspect and verify snapshot archives (tar + zstd, with a manifest and SHA-256 sums).",
        subcommands: [Save.self, Status.self, Verify.self]
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func printTable(_ rows: [(String, String)]) {
        let width = rows.map(\.0.count).max() ?? 0
        for (name, value) in rows {
            print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }

    static func rows(_ manifest: SnapshotManifest, sha256: String, compressedBytes: Int) -> [(String, String)] {
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
            ("archive sha256", sha256),
            ("archive size", "\(compressedBytes)"),
        ]
    }

    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a snapshot archive of a stopped member's data-dir.",
            discussion: """
                Writes FILE.part, fsyncs it and renames it to FILE, then writes FILE.sha256 \
                (sha256sum format). A failed save leaves no FILE. Saving from a running \
                server's endpoint is not in this version yet: stop the member, or use \
                `etcdctl snapshot save`.
                """
        )

        @Argument(help: "The archive to write.") var file: String
        @Option(help: "The data-dir of a stopped member (its member/snap/db is read).") var dataDir: String
        @Flag(help: "Replace FILE if it exists.") var force = false
        @Option(help: "zstd compression level, 1 (fast) to 19 (small).") var level: Int32 = 3
        @Option(name: [.customShort("w"), .long], help: "Output format: table or json (the manifest).")
        var writeOut: OutputFormat = .table

        func validate() throws {
            guard (1...19).contains(level) else { throw ValidationError("--level must be between 1 and 19, not \(level)") }
        }

        func run() async throws {
            let started = ContinuousClock.now
            let saved: (manifest: SnapshotManifest, sha256: String, bytes: Int)
            do {
                saved = try await OfflineSnapshot.save(dataDirectory: dataDir, to: file, force: force, level: level,
                    toolVersion: Cairn.version)
            } catch {
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                throw ExitCode.failure
            }
            switch writeOut {
            case .json: try SnapshotCommand.printJSON(saved.manifest)
            case .table:
                print("Snapshot saved at \(file) (\(saved.bytes) bytes, \(saved.manifest.databaseBytes) bytes of database, \(ContinuousClock.now - started))")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a snapshot archive holds: etcdutl's hash, revision, keys and size, and its manifest.")

        @Argument(help: "The archive.") var file: String
        @Option(name: [.customShort("w"), .long], help: "Output format: table or json.") var writeOut: OutputFormat = .table

        func run() async throws {
            let report: SnapshotArchiveReader.Report
            do {
                report = try SnapshotArchiveReader.read(path: file)
            } catch {
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                throw ExitCode.failure
            }
            switch writeOut {
            case .json: try SnapshotCommand.printJSON(report.manifest)
            case .table: SnapshotCommand.printTable(SnapshotCommand.rows(report.manifest, sha256: report.sha256, compressedBytes: report.compressedBytes))
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a snapshot archive: outer SHA-256, zstd checksums, tar members, member SHA-256s, every database record.",
            discussion: "Exits 0 only when every check passes. --deep also recomputes the KV hash, key count and revision range.")

        @Argument(help: "The archive.") var file: String
        @Flag(help: "Recompute the KV hash, key count and revision range and compare them with the manifest.") var deep = false

        func run() async throws {
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-verify-\(UUID().uuidString)").path
            do {
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                let report = try SnapshotArchiveReader.read(path: file, databaseDirectory: scratch, deep: deep)
                for check in report.checks { print("\(check.name): \(check.result)") }
                print("\(file): OK")
            } catch {
                FileHandle.standardError.write(Data("\(file): FAILED: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
