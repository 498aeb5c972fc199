import Foundation
import TestSupport
import XCTest

/// The NOSPACE runbook every etcd operator knows: the quota is hit, the alarm blocks writes
/// (even after a restart) until history is compacted, the database defragmented and the
/// alarm disarmed.
final class QuotaTests: CompatibilityTestCase {
    override class var serverArguments: [String] { ["--quota-backend-bytes", "\(1 << 20)"] }

    private func memberID() throws -> UInt64 {
        try etcdctl.json(["endpoint", "status"], as: [EtcdctlJSON.EndpointStatus].self).first?.status.header.memberID ?? 0
    }

    private func statusErrors() throws -> [String] {
        try etcdctl.json(["endpoint", "status"], as: [EtcdctlJSON.EndpointStatus].self).first?.status.errors ?? []
    }

    private func assertPutRefused(_ key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let refused = try etcdctl.fail(["put", key, "small"])
        XCTAssertTrue(refused.stderr.contains("etcdserver: mvcc: database space exceeded"), refused.stderr, file: file, line: line)
    }

    func testNoSpaceAlarmBlocksPutsUntilCompactDefragAndDisarm() throws {
        let value = String(repeating: "x", count: 64 << 10)
        var stored = 0
        var refusal: EtcdctlResult?
        while refusal == nil, stored < 100 {
            let result = try etcdctl.run(["put", "k\(stored)", value])
            if result.succeeded { stored += 1 } else { refusal = result }
        }
        let refused = try XCTUnwrap(refusal, "100 values of 64 KiB all fit under a 1 MiB quota")
        XCTAssertTrue(refused.stderr.contains("etcdserver: mvcc: database space exceeded"), refused.stderr)
        XCTAssertGreaterThan(stored, 3)

        let id = try memberID()
        let listed = try etcdctl.succeed(["alarm", "list"])
        XCTAssertEqual(listed.trimmingCharacters(in: .whitespacesAndNewlines), "memberID:\(id) alarm:NOSPACE")
        let alarms = try etcdctl.json(["alarm", "list"], as: EtcdctlJSON.AlarmList.self).alarms ?? []
        XCTAssertEqual(alarms.map(\.memberID), [id])
        XCTAssertEqual(alarms.map(\.alarm), [1], "NOSPACE is alarm type 1")
        XCTAssertEqual(try statusErrors().map { $0.trimmingCharacters(in: .whitespaces) }, ["memberID:\(id) alarm:NOSPACE"])

        // Even a tiny put is refused while the alarm is active; reads and deletes still work.
        try assertPutRefused("tiny")
        XCTAssertEqual(try get("k", "--prefix", "--keys-only").kvs.count, stored)
        XCTAssertEqual(try del("k", "--prefix").deleted, Int64(stored))

        // The alarm is state, not a symptom: it survives a restart and outlives the cleanup.
        server.stop()
        try server.start()
        try server.waitUntilHealthy(using: etcdctl)
        try assertPutRefused("after-restart")
        let revision = try get("anything").header.revision
        try etcdctl.succeed(["compaction", "\(revision)", "--physical"])
        try etcdctl.succeed(["defrag"])
        try assertPutRefused("after-defrag")

        let disarmed = try etcdctl.succeed(["alarm", "disarm"])
        XCTAssertEqual(disarmed.trimmingCharacters(in: .whitespacesAndNewlines), "memberID:\(id) alarm:NOSPACE")
        XCTAssertEqual(try etcdctl.succeed(["alarm", "list"]), "")
        XCTAssertEqual(try statusErrors(), [])
        try put("after-disarm", "ok")
        XCTAssertEqual(try get("after-disarm").kvs.map(\.value), ["ok"])
    }
}
