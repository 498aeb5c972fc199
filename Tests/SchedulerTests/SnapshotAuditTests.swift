import Backup
import Foundation
import Logging
import Scheduler
import Storage
import TestSupport
import XCTest

/// `cairn snapshot audit` over a real backup directory the scheduler's job filled, then damaged
/// the ways backups get damaged; and restore drills on real and tampered snapshots.
final class SnapshotAuditTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var backups = ""
    /// Where the drills' throw-away servers live (TMPDIR of the command), to see them gone.
    private var scratch = ""
    /// When the snapshots were taken: two days before the test runs.
    private let takenAt = Date().addingTimeInterval(-2 * 86400)

    override func setUp() async throws {
        directory = try TemporaryDirectory(prefix: "cairn-audit")
        backups = directory.file("backups")
        scratch = directory.file("tmp")
        let dataDirectory = directory.file("member.data")
        for path in [backups, scratch, dataDirectory + "/member/snap"] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let store = try MVCCStore(path: OfflineSnapshot.backendPath(dataDirectory: dataDirectory))
        for index in 0..<10 {
            try await store.write { txn in
                _ = try txn.put(PutRequest(key: Array("key/\(index)".utf8), value: Array("value-\(index)".utf8)))
            }
        }
        store.close()
        for index in 0..<5 {
            let now = takenAt.addingTimeInterval(Double(index) * 3600)
            try await SnapshotJob(directory: backups, policy: RetentionPolicy(retainLast: 10), timeZone: TimeZone(identifier: "UTC")!,
                save: { path in
                    _ = try await OfflineSnapshot.save(dataDirectory: dataDirectory, to: path, force: false, level: 1, toolVersion: "test")
                }, now: { now }, logger: Logger(label: "test")
            ).run()
        }
    }

    override func tearDown() {
        directory?.remove()
        directory = nil
    }

    private struct Outcome: Decodable {
        struct Audit: Decodable {
            struct Row: Decodable {
                struct Problem: Decodable, Equatable {
                    let kind: String
                    let detail: String
                }
                let file: String
                let problems: [Problem]
                let forgotten: Bool
                let checks: [String]
            }
            let rows: [Row]
            let staleness: String?
        }
        struct Drill: Decodable {
            let ok: Bool
            let file: String
            let detail: String
            let keysSampled: Int
            let revision: Int64
            let durationSeconds: Double
        }
        let audit: Audit
        let drill: Drill?
    }

    private func audit(_ flags: [String]) throws -> (status: Int32, outcome: Outcome, stderr: String) {
        let run = try CairnCommand.run(["snapshot", "audit", backups, "-w", "json"] + flags, scratchDirectory: directory.path,
            environment: ProcessInfo.processInfo.environment.merging(["TMPDIR": scratch]) { $1 }, timeout: .seconds(120))
        let outcome = try JSONDecoder().decode(Outcome.self, from: Data(run.stdout.utf8))
        return (run.status, outcome, run.stderr)
    }

    private func archives() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: backups).filter { $0.hasSuffix(".cairn") }.sorted()
    }

    func testTheAuditReportsExactlyTheDamagedMissingAndUncataloguedSnapshots() throws {
        let files = try archives()
        XCTAssertEqual(files.count, 5)
        let (flipped, truncated, gone) = (files[0], files[1], files[2])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: backups + "/" + flipped))
        bytes[bytes.count / 2] ^= 0x04
        try bytes.write(to: URL(fileURLWithPath: backups + "/" + flipped))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: backups + "/" + truncated))
        try handle.truncate(atOffset: 600)
        try handle.close()
        try FileManager.default.removeItem(atPath: backups + "/" + gone)
        try FileManager.default.copyItem(atPath: backups + "/" + files[4], toPath: backups + "/copied-by-hand.cairn")

        let first = try audit(["--max-age", "72h"])
        XCTAssertEqual(first.status, 1, first.stderr)
        let problems = Dictionary(uniqueKeysWithValues: first.outcome.audit.rows.map { ($0.file, $0.problems) })
        XCTAssertEqual(Set(problems.filter { !$0.value.isEmpty }.keys), [flipped, truncated, gone, "copied-by-hand.cairn"])
        XCTAssertEqual(problems[flipped]?.map(\.kind), ["verification"])
        XCTAssertTrue(problems[flipped]?.first?.detail.contains("outer sha256") == true, "\(problems[flipped]!)")
        XCTAssertTrue(problems[flipped]?.first?.detail.contains("zstd stream failed") == true, "\(problems[flipped]!)")
        XCTAssertEqual(problems[truncated]?.map(\.kind), ["verification"])
        XCTAssertTrue(problems[truncated]?.first?.detail.contains("compressed byte 600") == true, "\(problems[truncated]!)")
        XCTAssertEqual(problems[gone]?.map(\.kind), ["missing-file"])
        XCTAssertEqual(problems["copied-by-hand.cairn"]?.map(\.kind), ["not-in-catalog"])
        XCTAssertEqual(problems[files[3]], [])
        XCTAssertEqual(problems[files[4]], [])
        XCTAssertFalse(first.outcome.audit.rows.first { $0.file == files[4] }!.checks.isEmpty)
        XCTAssertNil(first.outcome.audit.staleness)
        // The audit changed no snapshot: the damaged ones are still there for a look.
        XCTAssertEqual(try archives(), [flipped, truncated, files[3], files[4], "copied-by-hand.cairn"].sorted())

        for file in [flipped, truncated, "copied-by-hand.cairn"] { try FileManager.default.removeItem(atPath: backups + "/" + file) }
        let forgetting = try audit(["--forget-missing"])
        XCTAssertEqual(forgetting.status, 0, forgetting.stderr)
        XCTAssertEqual(Set(forgetting.outcome.audit.rows.filter(\.forgotten).map(\.file)), [flipped, truncated, gone])
        let clean = try audit([])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertEqual(clean.outcome.audit.rows.map(\.file), [files[3], files[4]])

        // The newest good snapshot is nearly two days old.
        let stale = try audit(["--max-age", "24h"])
        XCTAssertEqual(stale.status, 1)
        XCTAssertTrue(stale.outcome.audit.staleness?.contains("older than --max-age 1d0h") == true, "\(stale.outcome.audit)")

        let catalog = try BackupCatalog.load(from: backups)
        XCTAssertEqual(catalog.snapshots.map(\.file), [files[3], files[4]])
        XCTAssertEqual(catalog.lastAudit?.failing, [])
        let metrics = try String(contentsOfFile: backups + "/cairn_backup.prom", encoding: .utf8)
        XCTAssertTrue(metrics.contains("cairn_backup_audit_failing_snapshots 0"), metrics)
        XCTAssertTrue(metrics.contains("cairn_backup_newest_verified_snapshot_timestamp_seconds"), metrics)
    }

    func testADrillRestoresTheNewestSnapshotIntoAThrowAwayServerAndLeavesNothing() throws {
        let drilled = try audit(["--drill"])
        XCTAssertEqual(drilled.status, 0, drilled.stderr)
        let drill = try XCTUnwrap(drilled.outcome.drill)
        XCTAssertTrue(drill.ok, drill.detail)
        XCTAssertEqual(drill.file, try archives().last)
        XCTAssertEqual(drill.keysSampled, 10)
        XCTAssertTrue(drill.detail.contains("as in the manifest"), drill.detail)
        try assertNothingLeft()

        let catalog = try BackupCatalog.load(from: backups)
        XCTAssertEqual(catalog.lastSuccessfulDrill?.file, drill.file)
        let metrics = try String(contentsOfFile: backups + "/cairn_backup.prom", encoding: .utf8)
        XCTAssertTrue(metrics.contains("cairn_backup_last_drill_success 1"), metrics)
        XCTAssertTrue(metrics.contains("cairn_backup_last_successful_drill_timestamp_seconds"), metrics)
    }

    /// The database changed behind the manifest's back (same size, same revision, one value's
    /// bytes differ; the archive rebuilt so its member checksums match): the archive checks
    /// pass, the drill fails on the hash.
    func testADrillOnASnapshotWhoseDatabaseWasTamperedWithFailsOnTheHash() throws {
        let good = backups + "/" + (try archives().last!)
        let extracted = directory.file("extracted")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: false)
        let report = try SnapshotArchiveReader.read(path: good, databaseDirectory: extracted)
        var database = try Data(contentsOf: URL(fileURLWithPath: extracted + "/db"))
        let original = Data("value-3".utf8)
        let range = try XCTUnwrap(database.range(of: original), "the value is in the database file")
        database.replaceSubrange(range, with: Data("valuE-3".utf8))

        let tampered = directory.file("tampered.cairn")
        let writer = try SnapshotArchiveWriter(path: tampered, force: false, level: 1)
        try database.withUnsafeBytes { try writer.appendDatabase($0) }
        _ = try writer.finish(manifest: report.manifest)
        let verify = try CairnCommand.run(["snapshot", "verify", tampered], scratchDirectory: directory.path)
        XCTAssertEqual(verify.status, 0, "the archive's own checks pass: \(verify.stderr)")

        let drilled = try audit(["--drill", "--snapshot", tampered])
        XCTAssertEqual(drilled.status, 1)
        let drill = try XCTUnwrap(drilled.outcome.drill)
        XCTAssertFalse(drill.ok)
        XCTAssertTrue(drill.detail.lowercased().contains("hash"), drill.detail)
        try assertNothingLeft()
        XCTAssertEqual(try BackupCatalog.load(from: backups).lastDrill?.ok, false)
        let metrics = try String(contentsOfFile: backups + "/cairn_backup.prom", encoding: .utf8)
        XCTAssertTrue(metrics.contains("cairn_backup_last_drill_success 0"), metrics)
    }

    /// No drill directory in the command's TMPDIR, and no process running from one.
    private func assertNothingLeft() throws {
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [])
        for pid in try FileManager.default.contentsOfDirectory(atPath: "/proc") where Int32(pid) != nil {
            guard let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            XCTAssertFalse(String(decoding: commandLine, as: UTF8.self).contains(scratch), "process \(pid) still runs from \(scratch)")
        }
    }
}
