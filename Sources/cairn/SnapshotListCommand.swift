import ArgumentParser
import Foundation
import Scheduler

extension SnapshotCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the snapshots of a backup directory from its catalog (index.json), newest first.",
            discussion: "Also names archives in DIR that the catalog does not know, and catalog entries whose file is gone.")

        @Argument(help: "The backup directory.") var dir: String
        @Option(name: [.customShort("w"), .long], help: "Output format: table or json (the catalog).")
        var writeOut: SnapshotCommand.OutputFormat = .table

        func run() async throws {
            let catalog: BackupCatalog
            do {
                guard FileManager.default.fileExists(atPath: dir) else {
                    throw SchedulerError(.io, "\(dir) does not exist")
                }
                catalog = try BackupCatalog.load(from: dir)
            } catch {
                throw CommandFailure.exit(error)
            }
            let files = Set(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(SnapshotAudit.archiveSuffix) })
            let catalogued = Set(catalog.snapshots.map(\.file))
            switch writeOut {
            case .json:
                print(String(decoding: try catalog.encoded(), as: UTF8.self))
            case .table:
                var rows = [["FILE", "CREATED", "REVISION", "SIZE", "VERIFIED"]]
                for entry in catalog.snapshots.reversed() {
                    rows.append([entry.file, ISO8601DateFormatter().string(from: entry.createdAt), "\(entry.manifest.revision)",
                        "\(entry.sizeBytes)", entry.verification.ok ? "ok" : "FAILED: \(entry.verification.detail)"])
                }
                SnapshotCommand.printColumns(rows)
            }
            for file in files.subtracting(catalogued).sorted() {
                FileHandle.standardError.write(Data("note: \(dir)/\(file) is not in the catalog (never pruned)\n".utf8))
            }
            for file in catalogued.subtracting(files).sorted() {
                FileHandle.standardError.write(Data("warning: the catalog lists \(file), which is missing from \(dir)\n".utf8))
            }
        }
    }
}
