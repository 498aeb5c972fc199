import Backup
import Foundation
import Logging
import Storage
import TestSupport
import XCTest

@testable import Scheduler

/// One scheduled snapshot and the scheduler's loop, over real archives of a small store and an
/// injected clock.
final class SnapshotJobTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var dataDirectory = ""
    private var backups = ""

    override func setUp() async throws {
        directory = try TemporaryDirectory(prefix: "cairn-schedule")
        dataDirectory = directory.file("member.data")
        backups = directory.file("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dataDirectory + "/member/snap", withIntermediateDirectories: true)
        let store = try MVCCStore(path: OfflineSnapshot.backendPath(dataDirectory: dataDirectory))
        for index in 0..<10 {
            try await store.write { txn in
                _ = try txn.put(PutRequest(key: Array("key/\(index)".utf8), value: Array("value-\(index)".utf8)))
            }
        }
        store.close()
    }

    override func tearDown() {
        directory?.remove()
        directory = nil
    }

    /// A clock the tests move: every job and sleep reads it.
    private final class FakeClock: @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_795_000_000)
        private(set) var sleeps: [Duration] = []

        var now: Date { lock.withLock { current } }
        func advance(_ duration: Duration) {
            lock.withLock {
                current = current.addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
                sleeps.append(duration)
            }
        }
        func advance(seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    }

    private func job(policy: RetentionPolicy, clock: FakeClock? = nil,
        save: (@Sendable (String) async throws -> Void)? = nil) -> SnapshotJob
    {
        let dataDirectory = dataDirectory
        let defaultSave: @Sendable (String) async throws -> Void = { path in
            _ = try await OfflineSnapshot.save(dataDirectory: dataDirectory, to: path, force: false, level: 1, toolVersion: "test")
        }
        let now: @Sendable () -> Date
        if let clock { now = { clock.now } } else { now = { Date() } }
        return SnapshotJob(directory: backups, policy: policy, timeZone: TimeZone(identifier: "UTC")!,
            save: save ?? defaultSave, now: now, logger: Logger(label: "test"))
    }

    private func archives() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: backups).filter { $0.hasSuffix(".cairn") }.sorted()
    }

    func testEachRunIsVerifiedCataloguedAndPrunedToThePolicy() async throws {
        let clock = FakeClock()
        let job = job(policy: RetentionPolicy(retainLast: 2), clock: clock)
        try Data("an operator's copy".utf8).write(to: URL(fileURLWithPath: backups + "/manual.cairn"))
        var taken: [String] = []
        for _ in 0..<4 {
            taken.append(try await job.run().file)
            clock.advance(seconds: 3600)
        }
        let catalog = try BackupCatalog.load(from: backups)
        XCTAssertEqual(catalog.snapshots.map(\.file), Array(taken.suffix(2)))
        XCTAssertTrue(catalog.snapshots.allSatisfy { $0.verification.ok }, "\(catalog.snapshots.map(\.verification))")
        XCTAssertEqual(catalog.snapshots.last?.manifest.keyCount, 10)
        XCTAssertEqual(try archives(), (taken.suffix(2) + ["manual.cairn"]).sorted(), "never an uncatalogued file")
        for file in taken.prefix(2) {
            XCTAssertFalse(FileManager.default.fileExists(atPath: backups + "/" + file + ".sha256"))
        }
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: backups).contains { $0.hasPrefix(".verify-") })

        let metrics = BackupMetrics.load(from: backups)
        XCTAssertEqual(metrics.consecutiveFailures, 0)
        XCTAssertEqual(metrics.snapshotCount, 2)
        XCTAssertEqual(metrics.lastSuccessTimestampSeconds ?? 0, clock.now.timeIntervalSince1970 - 3600, accuracy: 1)
        let text = try String(contentsOfFile: backups + "/" + BackupMetrics.fileName, encoding: .utf8)
        XCTAssertTrue(text.contains("# TYPE cairn_backup_last_success_timestamp_seconds gauge"), text)
    }

    func testDryRunPruneExplainsAndDeletesNothing() async throws {
        let clock = FakeClock()
        for _ in 0..<3 {
            try await job(policy: RetentionPolicy(), clock: clock).run()
            clock.advance(seconds: 86_400)
        }
        let before = try archives()
        let (plan, _) = try job(policy: RetentionPolicy(retainLast: 1), clock: clock).prune(dryRun: true)
        XCTAssertEqual(plan.keep.count, 1)
        XCTAssertEqual(plan.delete.count, 2)
        XCTAssertTrue(plan.delete.allSatisfy { $0.reasons == ["outside every retention rule"] }, "\(plan.delete)")
        XCTAssertEqual(try archives(), before)
    }

    func testAFailedSaveCountsAsAFailureAndLeavesNothing() async throws {
        let job = job(policy: RetentionPolicy(retainLast: 2)) { _ in
            throw SchedulerError(.snapshot, "the server is down")
        }
        for attempt in 1...2 {
            do {
                try await job.run()
                XCTFail("a failed save succeeded")
            } catch {
                XCTAssertEqual(BackupMetrics.load(from: backups).consecutiveFailures, attempt)
            }
        }
        XCTAssertEqual(try archives(), [])
        XCTAssertEqual(try BackupCatalog.load(from: backups).snapshots.count, 0)
    }

    func testASecondSchedulerCannotTakeTheDirectory() throws {
        var first: DirectoryLock? = try DirectoryLock(directory: backups)
        XCTAssertThrowsError(try DirectoryLock(directory: backups)) { error in
            XCTAssertEqual((error as? SchedulerError)?.code, .locked)
            XCTAssertTrue("\(error)".contains("pid \(getpid())"), "\(error)")
        }
        XCTAssertNotNil(first)
        first = nil
        XCTAssertNoThrow(try DirectoryLock(directory: backups), "the lock goes with its holder")
    }

    /// A machine asleep through five fire times takes one snapshot when it wakes, then follows
    /// the schedule from there; a failed run is retried after the configured pauses.
    func testMissedFireTimesRunOnceAndFailuresAreRetried() async throws {
        let clock = FakeClock()
        let saves = Counter()
        let dataDirectory = dataDirectory
        let job = job(policy: RetentionPolicy(retainLast: 10), clock: clock) { path in
            // The third save fails once, to be retried.
            if saves.next() == 3 { throw SchedulerError(.snapshot, "transient") }
            _ = try await OfflineSnapshot.save(dataDirectory: dataDirectory, to: path, force: false, level: 1, toolVersion: "test")
        }
        let sleeps = Counter()
        let scheduler = SnapshotScheduler(job: job, timing: .interval(.seconds(3600)), runAtStart: true,
            retryDelays: [.seconds(7)],
            sleep: { duration in
                // The second sleep is a night asleep: five hours pass instead of one.
                clock.advance(sleeps.next() == 2 ? duration + .seconds(5 * 3600) : duration)
                if sleeps.value > 5 { throw CancellationError() }
            })
        do {
            try await scheduler.run()
        } catch is CancellationError {}
        let hour = Duration.seconds(3600)
        let expectedSleeps: [Duration] = [hour, hour * 6, .seconds(7), hour, hour, hour]
        XCTAssertEqual(clock.sleeps, expectedSleeps)
        let start = 1_795_000_000.0
        let offsets: [Double] = try BackupCatalog.load(from: backups).snapshots.map { $0.createdAt.timeIntervalSince1970 - start }
        let expectedOffsets: [Double] = [0, 3600, 7 * 3600 + 7, 8 * 3600 + 7, 9 * 3600 + 7]
        XCTAssertEqual(offsets, expectedOffsets, "at start, on time, once after the sleep (after its retry), then hourly from the wake")
    }

    /// An audit every 90 minutes runs between hourly snapshots, in turn with them, at its own
    /// times; with an audit of the directory the snapshots went into, each finds them good.
    func testCompanionsRunOnTheirOwnScheduleBetweenSnapshots() async throws {
        let clock = FakeClock()
        let start = clock.now
        let runs = Runs()
        let backups = backups
        let sleeps = Counter()
        var scheduler = SnapshotScheduler(job: job(policy: RetentionPolicy(retainLast: 10), clock: clock),
            timing: .interval(.seconds(3600)),
            sleep: { duration in
                clock.advance(duration)
                if sleeps.next() > 6 { throw CancellationError() }
            })
        scheduler.companions = [SnapshotScheduler.Companion(name: "audit", timing: .interval(.seconds(5400))) {
            let report = try? SnapshotAudit(directory: backups, now: { clock.now }).run()
            runs.append("audit at \(Int(clock.now.timeIntervalSince(start)) / 60) min: \(report?.rows.filter(\.ok).count ?? -1) good of \(report?.rows.count ?? -1)")
        }]
        do {
            try await scheduler.run()
        } catch is CancellationError {}
        XCTAssertEqual(runs.all, ["audit at 90 min: 1 good of 1", "audit at 180 min: 3 good of 3", "audit at 270 min: 4 good of 4"])
        let snapshotMinutes = try BackupCatalog.load(from: backups).snapshots.map { Int($0.createdAt.timeIntervalSince(start)) / 60 }
        // Due together at 180 minutes, the snapshot goes first; the seventh sleep ends the run.
        XCTAssertEqual(snapshotMinutes, [60, 120, 180, 240])
    }

    private final class Runs: @unchecked Sendable {
        private let lock = NSLock()
        private var runs: [String] = []
        var all: [String] { lock.withLock { runs } }
        func append(_ run: String) { lock.withLock { runs.append(run) } }
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func next() -> Int { lock.withLock { count += 1; return count } }
    }
}
