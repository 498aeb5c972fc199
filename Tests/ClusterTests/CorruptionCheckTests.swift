import Foundation
import Storage
import TestSupport
import XCTest

/// A member whose backend diverged from the others' (here: a write that never went through
/// raft, as bit rot or a bad disk would leave it) is caught by the KV hash comparisons.
final class CorruptionCheckTests: ClusterTestCase {
    func testADivergedMemberIsRefusedAtStartAndRaisesCorruptWhileRunning() async throws {
        let cluster = try startCluster(size: 3, ["--experimental-corrupt-check-time", "1s"])
        try XCTSkipIf(cluster.binary.kind == .etcd, "the divergence is written into cairn's backend")
        let etcdctl = try cluster.etcdctl()
        for index in 1...5 { _ = try etcdctl.run(["put", "k\(index)", "v\(index)"]) }
        let leader = try XCTUnwrap(try cluster.waitForLeader())
        let follower = try XCTUnwrap(cluster.members.first { $0 !== leader })
        let followerID = try XCTUnwrap(try cluster.statuses()[follower.name]?.header.memberID)
        try cluster.eventually("the follower has every put") {
            try cluster.etcdctl(follower).json(["get", "k5", "--consistency=s"], as: EtcdctlJSON.Range.self).count == 1
        }
        follower.stop()

        let store = try MVCCStore(path: follower.dataDirectory + "/member/snap/db")
        _ = try await store.write { try $0.put(Storage.PutRequest(key: Array("diverged".utf8), value: Array("x".utf8))) }
        store.close()
        let others = try cluster.etcdctl(leader)
        for index in 6...10 { XCTAssertTrue(try others.run(["put", "k\(index)", "v\(index)"]).succeeded) }

        let refused = try CairnCommand.run(follower.arguments + ["--experimental-initial-corrupt-check"],
            scratchDirectory: cluster.directory.path, timeout: .seconds(60))
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("found data inconsistency with peers"), refused.stderr)

        // Started without the initial check, it serves, and the leader's periodic check finds it.
        try follower.start()
        try follower.waitUntilHealthy(using: cluster.etcdctl(follower))
        try cluster.eventually("the CORRUPT alarm for the diverged member") {
            let alarms = try others.json(["alarm", "list"], as: EtcdctlJSON.AlarmList.self).alarms ?? []
            return alarms.contains { $0.memberID == followerID && $0.alarm == 2 }
        }
        // As etcd's corrupt applier: writes are refused everywhere, reads still answer.
        let write = try others.run(["put", "after", "corrupt"])
        XCTAssertFalse(write.succeeded)
        XCTAssertTrue(write.stderr.contains("etcdserver: corrupt cluster"), write.stderr)
        XCTAssertEqual(try others.json(["get", "k10"], as: EtcdctlJSON.Range.self).kvs.first?.value, "v10")
    }
}
