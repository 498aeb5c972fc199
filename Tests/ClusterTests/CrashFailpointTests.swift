import Foundation
import Storage
import TestSupport
import XCTest

/// Each crash failpoint, armed in one member of a 3-member cluster through its failpoint
/// switch, ends that member at its point (exit status 86, the failpoint named in its log);
/// restarted, the member catches up, every write acknowledged before the crash reads back from
/// it, and all members hash the same at the same revision.
final class CrashFailpointTests: ClusterTestCase {
    /// Small raft snapshots, so that a member stopped for a few dozen writes needs one.
    private static let flags = ["--snapshot-count", "20", "--experimental-snapshot-catchup-entries", "5"]

    private func startCrashableCluster() throws -> LocalCluster {
        let cluster = try LocalCluster(size: 3, extraArguments: Self.flags, failpointSwitches: true)
        self.cluster = cluster
        try XCTSkipIf(cluster.binary.kind == .etcd, "etcd 3.4 release builds have no failpoints")
        try cluster.start()
        return cluster
    }

    func testCrashBeforeWALFsync() throws { try crashDuringWrites(.crashBeforeWALFsync, inLeader: true) }

    func testCrashAfterWALFsync() throws { try crashDuringWrites(.crashAfterWALFsync, inLeader: false) }

    func testCrashBeforeBackendCommit() throws { try crashDuringWrites(.crashBeforeBackendCommit, inLeader: false) }

    func testCrashAfterBackendCommit() throws { try crashDuringWrites(.crashAfterBackendCommit, inLeader: true) }

    /// The member dies on the next write it persists or applies; puts go on meanwhile.
    private func crashDuringWrites(_ failpoint: Failpoint, inLeader: Bool) throws {
        let cluster = try startCrashableCluster()
        let victim = try member(leader: inLeader)
        var acknowledged = try putKeys(0..<5)
        try cluster.failpoints(of: victim).arm(failpoint.rawValue)
        acknowledged.merge(try putKeys(5..<15)) { $1 }
        try expectCrash(of: victim, at: failpoint)
        try restartAndCheck(victim, acknowledged: acknowledged)
    }

    /// A backend that fails to commit applied entries stops the member instead of letting it
    /// go on without them; restarted, it replays them from the WAL and hashes as the others.
    func testAFailedBackendCommitStopsTheMemberAndARestartReplaysTheEntries() throws {
        let cluster = try startCrashableCluster()
        let victim = try member(leader: false)
        var acknowledged = try putKeys(0..<5)
        try cluster.failpoints(of: victim).arm(Failpoint.failBackendCommit.rawValue)
        acknowledged.merge(try putKeys(5..<15)) { $1 }
        guard victim.waitForExit(upTo: .seconds(30)) else { return XCTFail("the member went on after its backend failed") }
        XCTAssertEqual(victim.exitStatus, 1, victim.exitDescription)
        XCTAssertTrue(victim.logTail(lines: 80).contains("the backend cannot apply committed entries; stopping"), victim.logTail())
        XCTAssertTrue(victim.logTail(lines: 80).contains("its backend cannot follow raft"), victim.logTail())
        try restartAndCheck(victim, acknowledged: acknowledged)
    }

    /// The background compaction that follows a compact request dies half-done; the restarted
    /// member finishes it, and hashes as the others at the compacted revision.
    func testCrashDuringCompaction() throws {
        let cluster = try startCrashableCluster()
        let victim = try member(leader: false)
        var acknowledged = try putKeys(0..<10)
        acknowledged.merge(try putKeys(0..<10)) { $1 }
        try cluster.failpoints(of: victim).arm(Failpoint.crashDuringCompaction.rawValue)
        // Asked through another member: the victim may die before it answers.
        let other = try XCTUnwrap(cluster.members.first { $0 !== victim })
        let compacted = try cluster.etcdctl(other).run(["compact", String(try revisionOf(other) - 2)])
        XCTAssertTrue(compacted.succeeded, "\(compacted)")
        try expectCrash(of: victim, at: .crashDuringCompaction)
        try restartAndCheck(victim, acknowledged: acknowledged)
    }

    /// The defragmented copy is written but never swapped in: the restarted member opens its
    /// old database, drops the copy, and defragments again when asked.
    func testCrashDuringDefrag() throws {
        let cluster = try startCrashableCluster()
        let victim = try member(leader: false)
        let acknowledged = try putKeys(0..<10)
        try cluster.failpoints(of: victim).arm(Failpoint.crashDuringDefrag.rawValue)
        _ = try cluster.etcdctl(victim).run(["defrag", "--command-timeout=10s"])
        try expectCrash(of: victim, at: .crashDuringDefrag)
        XCTAssertTrue(FileManager.default.fileExists(atPath: victim.dataDirectory + "/member/snap/db.defrag"),
            "the crash left the copy behind")
        try restartAndCheck(victim, acknowledged: acknowledged)
        XCTAssertFalse(FileManager.default.fileExists(atPath: victim.dataDirectory + "/member/snap/db.defrag"),
            "the restarted member removed the stale copy")
        XCTAssertTrue(try cluster.etcdctl(victim).run(["defrag"]).succeeded)
    }

    /// The leader dies while streaming a raft snapshot to a member that fell behind its log; the
    /// next leader sends it instead.
    func testCrashDuringSnapshotSend() throws {
        let cluster = try startCrashableCluster()
        let leader = try member(leader: true)
        let behind = try XCTUnwrap(cluster.members.first { $0 !== leader })
        behind.stop()
        try cluster.failpoints(of: leader).arm(Failpoint.crashDuringSnapshotSend.rawValue)
        let acknowledged = try putKeys(0..<40)
        try behind.start()
        try expectCrash(of: leader, at: .crashDuringSnapshotSend)
        try behind.waitUntilHealthy(using: cluster.etcdctl(behind), timeout: .seconds(60))
        try restartAndCheck(leader, acknowledged: acknowledged)
        try assertReads(acknowledged, from: behind)
    }

    /// A member that fell behind dies after raft accepted the leader's snapshot and before the
    /// snapshot's backend replaced its store; restarted, it installs the received backend.
    func testCrashDuringSnapshotApply() throws {
        _ = try startCrashableCluster()
        let behind = try member(leader: false)
        behind.stop()
        let acknowledged = try putKeys(0..<40)
        let environment = behind.environment
        behind.environment["CAIRN_FAILPOINTS"] = Failpoint.crashDuringSnapshotApply.rawValue
        try behind.start()
        behind.environment = environment
        try expectCrash(of: behind, at: .crashDuringSnapshotApply)
        try restartAndCheck(behind, acknowledged: acknowledged)
        XCTAssertTrue(behind.logTail(lines: 400).contains("installed the raft snapshot received before a restart"),
            behind.logTail())
    }

    // MARK: - Steps

    private func member(leader: Bool) throws -> ServerProcess {
        let current = try XCTUnwrap(try cluster.waitForLeader(), "no leader")
        if leader { return current }
        return try XCTUnwrap(cluster.members.first { $0 !== current })
    }

    /// Puts `key<i>` for each index through any member; returns the ones acknowledged.
    private func putKeys(_ indexes: Range<Int>) throws -> [String: String] {
        var acknowledged: [String: String] = [:]
        let etcdctl = try cluster.etcdctl()
        for index in indexes {
            let value = "v\(index)-\(UUID().uuidString.prefix(8))"
            if try etcdctl.run(["put", "key\(index)", value, "--command-timeout=5s"]).succeeded {
                acknowledged["key\(index)"] = value
            }
        }
        return acknowledged
    }

    private func expectCrash(of member: ServerProcess, at failpoint: Failpoint) throws {
        XCTAssertTrue(member.waitForExit(upTo: .seconds(30)), "\(member.name) did not crash at \(failpoint.rawValue)")
        XCTAssertEqual(member.exitStatus, Failpoint.crashExitStatus, member.exitDescription)
        XCTAssertTrue(member.logTail(lines: 50).contains("failpoint \(failpoint.rawValue): crashing"), member.logTail())
    }

    /// Restarts `member`, waits until every member is at the same revision, and checks that
    /// they hash the same there and that `member` reads back every acknowledged write.
    private func restartAndCheck(_ member: ServerProcess, acknowledged: [String: String]) throws {
        try member.start()
        try member.waitUntilHealthy(using: cluster.etcdctl(member), timeout: .seconds(60))
        var revision: Int64 = 0
        try cluster.eventually("every member at the same revision", timeout: .seconds(60)) {
            let revisions = Set(try cluster.members.map { try revisionOf($0) })
            revision = revisions.first ?? 0
            return revisions.count == 1
        }
        let hashes = try cluster.etcdctl().json(["endpoint", "hashkv", "--rev", String(revision)],
            as: [EtcdctlJSON.EndpointHashKV].self)
        XCTAssertEqual(hashes.count, cluster.members.count)
        XCTAssertEqual(Set(hashes.map(\.hashKV.hash)).count, 1, "members hash differently at \(revision): \(hashes)")
        XCTAssertEqual(Set(hashes.map(\.hashKV.compactRevision)).count, 1, "members compacted differently: \(hashes)")
        try assertReads(acknowledged, from: member)
    }

    private func assertReads(_ acknowledged: [String: String], from member: ServerProcess) throws {
        XCTAssertFalse(acknowledged.isEmpty, "no write was acknowledged")
        let range = try cluster.etcdctl(member).json(["get", "key", "--prefix", "--consistency=s"], as: EtcdctlJSON.Range.self)
        let read = Dictionary(range.kvs.map { ($0.key, $0.value) }) { $1 }
        for (key, value) in acknowledged {
            XCTAssertEqual(read[key], value, "\(member.name) lost the acknowledged put of \(key)")
        }
    }

    private func revisionOf(_ member: ServerProcess) throws -> Int64 {
        try cluster.etcdctl(member).json(["endpoint", "status"], as: [EtcdctlJSON.EndpointStatus].self)[0].status.header.revision
    }
}
