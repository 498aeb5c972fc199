import Backup
import Foundation
import TestSupport
import XCTest

@testable import Scheduler

/// `cairn schedule run|once|prune`, `cairn snapshot list` and `cairn server --snapshot-schedule`
/// against a live server, as an operator runs them.
final class ScheduleCommandTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var server: ServerProcess!
    private var etcdctl: Etcdctl!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "cairn-schedule-cli")
    }

    override func tearDown() {
        server?.stop()
        directory?.remove()
        directory = nil
        server = nil
    }

    private func startServer(_ extraArguments: [String] = []) throws {
        let ports = try FreePort.loopback(count: 2)
        server = ServerProcess(binary: try ServerBinary.resolve(environmentVariable: "CAIRN_SCHEDULE_SERVER"),
            name: "scheduled", directory: directory, clientPort: ports[0], peerPort: ports[1])
        server.extraArguments = extraArguments
        try server.start()
        etcdctl = try Etcdctl(endpoints: [server.clientURL], scratchDirectory: directory.path)
        try server.waitUntilHealthy(using: etcdctl)
    }

    private func cairn(_ arguments: [String]) throws -> CairnCommand.Run {
        try CairnCommand.run(arguments, scratchDirectory: directory.path, timeout: .seconds(120))
    }

    private func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: () throws -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ServerBinaryError(message: "\(what): not within \(timeout)")
    }

    func testSchedulerKeepsVerifiedSnapshotsToThePolicyAndHoldsItsDirectory() throws {
        try startServer()
        for index in 0..<50 {
            _ = try etcdctl.succeed(["put", "/registry/pods/p\(index)", "spec-\(index)"])
        }
        let backups = directory.file("backups")
        let log = directory.file("scheduler.log")
        XCTAssertTrue(FileManager.default.createFile(atPath: log, contents: nil))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuildProducts.executable("cairn"))
        process.arguments = ["schedule", "run", "--endpoints", server.clientURL, "--dir", backups, "--interval", "1s",
            "--retain-last", "3"]
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        let exited = try ProcessExit.run(process)
        defer { if process.isRunning { process.terminate() } }

        let logText = { String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self) }
        try eventually("five verified snapshots") {
            logText().components(separatedBy: "snapshot written and verified").count - 1 >= 5
        }
        let second = try cairn(["schedule", "run", "--endpoints", server.clientURL, "--dir", backups, "--interval", "1s"])
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.stderr.contains("another cairn scheduler (pid \(process.processIdentifier))"), second.stderr)

        kill(process.processIdentifier, SIGTERM)
        XCTAssertTrue(exited.wait(upTo: .seconds(30)), "the scheduler stops on SIGTERM")
        XCTAssertEqual(process.terminationStatus, 0, logText())
        XCTAssertFalse(logText().contains("snapshot failed"), logText())

        let catalog = try BackupCatalog.load(from: backups)
        XCTAssertEqual(catalog.snapshots.count, 3)
        XCTAssertTrue(catalog.snapshots.allSatisfy { $0.verification.ok && $0.manifest.keyCount == 50 })
        let archives = try FileManager.default.contentsOfDirectory(atPath: backups).filter { $0.hasSuffix(".cairn") }
        XCTAssertEqual(Set(archives), Set(catalog.snapshots.map(\.file)))
        let metrics = BackupMetrics.load(from: backups)
        XCTAssertEqual(metrics.consecutiveFailures, 0)
        XCTAssertEqual(metrics.snapshotCount, 3)
        XCTAssertLessThan(Date().timeIntervalSince1970 - (metrics.lastSuccessTimestampSeconds ?? 0), 60)

        let listed = try cairn(["snapshot", "list", backups, "-w", "json"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        XCTAssertEqual(try decoder.decode(BackupCatalog.self, from: Data(listed.stdout.utf8)), catalog)

        let dryRun = try cairn(["schedule", "prune", "--dir", backups, "--retain-last", "1", "--dry-run"])
        XCTAssertEqual(dryRun.status, 0, dryRun.stderr)
        XCTAssertEqual(dryRun.stdout.components(separatedBy: "would delete").count - 1, 2, dryRun.stdout)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: backups).filter { $0.hasSuffix(".cairn") }),
            Set(archives))

        let once = try cairn(["schedule", "once", "--endpoints", server.clientURL, "--dir", backups, "--retain-last", "3"])
        XCTAssertEqual(once.status, 0, once.stderr)
        XCTAssertTrue(once.stdout.contains("verified"), once.stdout)
        XCTAssertEqual(try BackupCatalog.load(from: backups).snapshots.count, 3)
    }

    func testServerWithASnapshotScheduleSnapshotsItselfAtStart() throws {
        let backups = directory.file("backups")
        try startServer(["--snapshot-schedule", "@hourly", "--snapshot-dir", backups, "--snapshot-on-start=true",
            "--snapshot-retain-daily", "7"])
        try eventually("the snapshot at start") {
            try BackupCatalog.load(from: backups).snapshots.first?.verification.ok == true
        }
        let catalog = try BackupCatalog.load(from: backups)
        XCTAssertEqual(catalog.snapshots.count, 1)
        XCTAssertEqual(catalog.snapshots[0].manifest.source, "cairn")
        let taken = try cairn(["schedule", "once", "--endpoints", server.clientURL, "--dir", backups])
        XCTAssertNotEqual(taken.status, 0, "the server's scheduler holds the directory")
        XCTAssertTrue(taken.stderr.contains("another cairn scheduler"), taken.stderr)
    }

    /// The server's own scheduler reads its store directly: with auth enabled (and no
    /// credentials anywhere) it still snapshots, here encrypted with --snapshot-encrypt-key-file.
    func testTheServersOwnSnapshotsNeedNoCredentialsAndCanBeEncrypted() throws {
        try startServer()
        for arguments in [["put", "/registry/a", "1"], ["user", "add", "root:rootpw"], ["auth", "enable"]] {
            _ = try etcdctl.succeed(arguments)
        }
        XCTAssertNotNil(try etcdctl.fail(["get", "/registry/a"]).errorLine, "auth is on")
        server.stop()

        let backups = directory.file("backups")
        let key = directory.file("backup.key")
        FileManager.default.createFile(atPath: key, contents: Data((String(repeating: "5a", count: 32) + "\n").utf8),
            attributes: [.posixPermissions: 0o600])
        server.extraArguments = ["--snapshot-schedule", "@hourly", "--snapshot-dir", backups, "--snapshot-on-start=true",
            "--snapshot-encrypt-key-file", key]
        try server.start()
        try eventually("the encrypted snapshot at start") {
            guard server.isRunning else { throw ServerBinaryError(message: "the server stopped:\n\(server.logTail())") }
            return try BackupCatalog.load(from: backups).snapshots.first?.verification.ok == true
        }
        let entry = try XCTUnwrap(BackupCatalog.load(from: backups).snapshots.first)
        XCTAssertTrue(Envelope.isEncrypted(path: backups + "/" + entry.file))
        XCTAssertEqual(entry.manifest.keyCount, 1)
        let verified = try cairn(["snapshot", "verify", backups + "/" + entry.file, "--deep", "--encrypt-key-file", key])
        XCTAssertEqual(verified.status, 0, verified.stderr)
    }

    func testBadScheduleFlagsAreRefusedWithTheReason() throws {
        let bad = try cairn(["schedule", "run", "--endpoints", "http://127.0.0.1:1", "--dir", directory.file("b"),
            "--cron", "0 0 32 * *"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("day-of-month: 32 is out of range 1-31"), bad.stderr)
        let both = try cairn(["schedule", "run", "--endpoints", "http://127.0.0.1:1", "--dir", directory.file("b"),
            "--cron", "@hourly", "--interval", "1m"])
        XCTAssertTrue(both.stderr.contains("exactly one of --cron and --interval"), both.stderr)
        let audit = try cairn(["schedule", "run", "--endpoints", "http://127.0.0.1:1", "--dir", directory.file("b"),
            "--cron", "@hourly", "--audit-cron", "61 * * * *"])
        XCTAssertNotEqual(audit.status, 0)
        XCTAssertTrue(audit.stderr.contains("--audit-cron: minute: 61 is out of range 0-59"), audit.stderr)
        let age = try cairn(["schedule", "run", "--endpoints", "http://127.0.0.1:1", "--dir", directory.file("b"),
            "--cron", "@hourly", "--drill-cron", "@daily", "--max-age", "a day"])
        XCTAssertTrue(age.stderr.contains("--max-age: \"a day\" is not a duration"), age.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("b")), "nothing created for bad flags")
    }
}
