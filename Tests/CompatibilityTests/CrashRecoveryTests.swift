import Foundation
import Synchronization
import TestSupport
import XCTest

/// SIGKILL the server while etcdctl processes are writing; after a restart on the same data
/// dir, every put that etcdctl reported as done (exit 0) is readable.
final class CrashRecoveryTests: CompatibilityTestCase {
    private static let writers = 3
    private static let putsPerWriter = 500
    private static let acknowledgedBeforeKill = 60

    /// What the writer threads share with the test.
    private final class Load: Sendable {
        let acknowledged = Mutex<[String: String]>([:])
        let stop = Atomic<Bool>(false)
    }

    func testEveryAcknowledgedPutSurvivesSIGKILL() throws {
        let load = Load()
        var writer = etcdctl!
        writer.commandTimeout = .seconds(2)
        let finished = DispatchGroup()
        for thread in 0..<Self.writers {
            finished.enter()
            DispatchQueue.global().async { [writer] in
                defer { finished.leave() }
                for index in 1...Self.putsPerWriter where !load.stop.load(ordering: .relaxed) {
                    let key = String(format: "load/%d/%04d", thread, index)
                    let value = "value-\(thread)-\(index)"
                    if let result = try? writer.run(["put", key, value], timeout: .seconds(10)), result.succeeded {
                        load.acknowledged.withLock { $0[key] = value }
                    }
                }
            }
        }
        defer {
            load.stop.store(true, ordering: .relaxed)
            finished.wait()
        }

        let deadline = ContinuousClock.now + .seconds(30)
        while load.acknowledged.withLock({ $0.count }) < Self.acknowledgedBeforeKill {
            guard ContinuousClock.now < deadline else {
                return XCTFail("only \(load.acknowledged.withLock { $0.count }) puts were acknowledged in 30 s")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertTrue(server.signal(SIGKILL), "the server did not die of SIGKILL")
        let acknowledgedAtKill = load.acknowledged.withLock { $0.count }
        load.stop.store(true, ordering: .relaxed)
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success, "the writers did not stop")
        let acknowledged = load.acknowledged.withLock { $0 }
        XCTAssertLessThan(acknowledgedAtKill, Self.writers * Self.putsPerWriter, "the kill came after the load ended")

        try server.start()
        try server.waitUntilHealthy(using: etcdctl)
        let stored = try get("load/", "--prefix")
        let values = Dictionary(stored.kvs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let lost = acknowledged.filter { values[$0.key] != $0.value }.keys.sorted()
        XCTAssertEqual(lost, [], "\(lost.count) of \(acknowledged.count) acknowledged puts are missing after the restart")
        XCTAssertGreaterThanOrEqual(stored.kvs.count, acknowledged.count)
        print("CrashRecoveryTests: \(acknowledgedAtKill) puts acknowledged at the kill, \(acknowledged.count) in all, \(stored.kvs.count) stored after the restart")
    }

    /// A WAL older than the backend (a file-system rollback of `member/wal` alone) would make
    /// the member renumber or lose acknowledged writes: it refuses to start, naming both
    /// indexes, and changes nothing.
    func testAMemberWhoseWALIsOlderThanItsBackendRefusesToStart() throws {
        guard server.binary.kind == .cairn else { throw XCTSkip("etcd 3.4 starts and panics later; cairn's refusal is pinned here") }
        try put("early", "1")
        server.stop()
        let wal = server.dataDirectory + "/member/wal"
        let olderWAL = directory.file("older-wal")
        try FileManager.default.copyItem(atPath: wal, toPath: olderWAL)
        try server.start()
        try server.waitUntilHealthy(using: etcdctl)
        for index in 1...20 { try put("later/\(index)", "\(index)") }
        server.stop()
        try FileManager.default.removeItem(atPath: wal)
        try FileManager.default.copyItem(atPath: olderWAL, toPath: wal)
        let backend = server.dataDirectory + "/member/snap/db"
        let backendBefore = try Data(contentsOf: URL(fileURLWithPath: backend))

        let run = try CairnCommand.run(server.arguments, scratchDirectory: directory.path, timeout: .seconds(30))
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("beyond the WAL's last commit"), run.stderr)
        XCTAssertTrue(run.stderr.contains("older than the backend"), run.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: backend)), backendBefore, "the backend was not touched")
    }
}
