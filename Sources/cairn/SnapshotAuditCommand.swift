import ArgumentParser
import Backup
import Foundation
import Logging
import Scheduler
import Server

extension SnapshotCommand {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify every snapshot in a backup directory and its catalog; with --drill, restore one into a throw-away server.",
            discussion: """
                Checks every *.cairn archive in DIR and every entry of DIR/index.json, several at \
                a time, and prints one row per snapshot. Reported as failing: an archive whose \
                checks fail (naming the check and where), a file the catalog does not list, a \
                catalog entry whose file is gone, a file whose SHA-256 is not the catalog's. \
                --drill then restores the newest good snapshot (or --snapshot FILE) into a \
                temporary data-dir, starts a `cairn server` from it on free loopback ports, and \
                checks that it serves, that its HashKV at the snapshot's revision is the \
                manifest's and that sampled keys read back; it removes everything it created. \
                The result goes into index.json and cairn_backup.prom (unless a scheduler holds \
                the directory: schedule audits with `cairn schedule run --audit-cron` then). \
                Exits 1 when a snapshot fails, the newest good one is older than --max-age, or \
                the drill fails.
                """)

        @Argument(help: "The backup directory.") var dir: String
        @Flag(help: "Also recompute each snapshot's KV hash, key count and revision range.") var deep = false
        @Flag(help: "Restore a snapshot into a throw-away server and check what it serves.") var drill = false
        @Option(help: "With --drill: the archive to drill (default: the newest good one in DIR).") var snapshot: String?
        @Option(help: "Fail when the newest good snapshot is older than this (e.g. 24h, 90m).") var maxAge: String?
        @Flag(help: "Drop catalog entries whose file is gone (they are reported, not failed).") var forgetMissing = false
        @Option(help: "Snapshots verified at once (default: the core count).") var jobs: Int?
        @Option(name: [.customShort("w"), .long], help: "Output format: table or json.") var writeOut: OutputFormat = .table
        @OptionGroup var encryption: EncryptionOption

        func validate() throws {
            if let maxAge, GoDuration.parse(maxAge) == nil {
                throw ValidationError("--max-age: \"\(maxAge)\" is not a duration such as 24h or 90m")
            }
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, not \(jobs)") }
            if snapshot != nil && !drill { throw ValidationError("--snapshot names the archive to drill: give --drill too") }
        }

        func run() async throws {
            let outcome: AuditOutcome
            do {
                var audit = SnapshotAudit(directory: dir, deep: deep, encryptionKey: try encryption.key(),
                    maxAge: maxAge.flatMap(GoDuration.parse))
                if let jobs { audit.parallelism = jobs }
                audit.forgetMissing = forgetMissing
                outcome = try await AuditOutcome.run(audit, drill: drill, snapshot: snapshot, lock: .take)
            } catch {
                throw CommandFailure.exit(error)
            }
            switch writeOut {
            case .json: try SnapshotCommand.printJSON(outcome)
            case .table: outcome.printTable()
            }
            if let note = outcome.notRecorded { FileHandle.standardError.write(Data("warning: \(note)\n".utf8)) }
            if !outcome.passed { throw ExitCode.failure }
        }
    }
}

/// An audit, the drill that may follow it, and whether both were written down: what
/// `cairn snapshot audit` prints and what scheduled audits log.
struct AuditOutcome: Encodable {
    enum Lock {
        /// Take the directory's lock to record the result; if a scheduler holds it, do not record.
        case take
        /// The caller (a running scheduler) holds it already.
        case held
    }

    var audit: AuditReport
    var drill: DrillRecord?
    /// Why the result was not written into the catalog and metrics, if it was not.
    var notRecorded: String?

    var passed: Bool { audit.passed && drill?.ok != false }

    static func run(_ audit: SnapshotAudit, drill: Bool, snapshot: String?, lock: Lock) async throws -> AuditOutcome {
        let report = try audit.run()
        var outcome = AuditOutcome(audit: report)
        if drill {
            if let target = snapshot ?? report.newestGood.map({ audit.directory + "/" + $0.file }) {
                outcome.drill = await RestoreDrill(snapshot: target, encryptionKey: audit.encryptionKey).run()
            } else {
                outcome.drill = DrillRecord(at: Date(), file: "", ok: false, revision: 0, durationSeconds: 0, databaseBytes: 0,
                    restoreBytesPerSecond: 0, keysSampled: 0, detail: "no good snapshot in \(audit.directory) to drill")
            }
        }
        // A directory a scheduler holds, or a read-only copy, is still audited: the findings
        // are printed and decide the exit status; only their record is left out.
        do {
            let directoryLock = lock == .take ? try DirectoryLock(directory: audit.directory) : nil
            try SnapshotAudit.record(report, drill: outcome.drill, in: audit.directory)
            withExtendedLifetime(directoryLock) {}
        } catch {
            outcome.notRecorded = "the result is not recorded in \(audit.directory): \(error)"
        }
        return outcome
    }

    /// One log line for the audit and one for the drill: info when they passed, error naming
    /// what failed otherwise.
    func log(to logger: Logger) {
        var metadata: Logger.Metadata = [
            "dir": "\(audit.directory)", "snapshots": "\(audit.rows.count)", "failing": "\(audit.failing.count)",
            "newest-good": "\(audit.newestGood?.file ?? "none")",
        ]
        if !audit.failing.isEmpty { metadata["problems"] = "\(audit.failing.map { "\($0.file): \($0.problemText)" })" }
        if let staleness = audit.staleness { metadata["staleness"] = "\(staleness)" }
        if let notRecorded { metadata["not-recorded"] = "\(notRecorded)" }
        if audit.passed { logger.info("snapshot audit passed", metadata: metadata) } else { logger.error("snapshot audit failed", metadata: metadata) }
        guard let drill else { return }
        let drillMetadata: Logger.Metadata = [
            "file": "\(drill.file)", "seconds": "\(String(format: "%.2f", drill.durationSeconds))",
            "restore-bytes-per-second": "\(Int(drill.restoreBytesPerSecond))", "detail": "\(drill.detail)",
        ]
        if drill.ok { logger.info("restore drill passed", metadata: drillMetadata) } else { logger.error("restore drill failed", metadata: drillMetadata) }
    }

    func printTable() {
        var rows = [["FILE", "CREATED", "REVISION", "KEYS", "SIZE", "CHECKS", "RESULT"]]
        let formatter = ISO8601DateFormatter()
        for row in audit.rows {
            rows.append([row.file, row.createdAt.map { formatter.string(from: $0) } ?? "-", row.revision.map(String.init) ?? "-",
                row.keys.map(String.init) ?? "-", row.sizeBytes.map(String.init) ?? "-",
                row.checks.isEmpty ? "-" : "\(row.checks.count) passed",
                row.forgotten ? "forgotten: the file is gone; dropped from the catalog" : row.ok ? "ok" : "FAILED: \(row.problemText)"])
        }
        SnapshotCommand.printColumns(rows)
        let forgotten = audit.rows.filter(\.forgotten).count
        var summary = "\(audit.rows.count - forgotten) snapshots, \(audit.failing.count) failing"
        if forgotten > 0 { summary += ", \(forgotten) catalog \(forgotten == 1 ? "entry" : "entries") forgotten" }
        if let newest = audit.newestGood {
            summary += "; newest good: \(newest.file), \(SnapshotAudit.describe(seconds: newest.ageSeconds)) old"
        } else {
            summary += "; no good snapshot"
        }
        print(summary)
        if let staleness = audit.staleness { print("FAILED: \(staleness)") }
        if let drill {
            let rate = String(format: "%.1f MiB/s", drill.restoreBytesPerSecond / 1_048_576)
            print(drill.ok
                ? "drill: \(drill.file) passed in \(String(format: "%.1f", drill.durationSeconds)) s (restore \(rate)): \(drill.detail)"
                : "drill: FAILED\(drill.file.isEmpty ? "" : " on \(drill.file)") after \(String(format: "%.1f", drill.durationSeconds)) s: \(drill.detail)")
        }
    }
}
