import Foundation
import TestSupport
import XCTest

/// The runbook for replacing a member, with the real etcdctl: add a learner, start it with
/// `--initial-cluster-state existing`, promote it once it has caught up, remove another
/// member; every member then lists the same members, and the removed one stops itself.
final class MembershipChangeTests: ClusterTestCase {

    private func memberList(at member: ServerProcess) throws -> [EtcdctlJSON.MemberList.Member] {
        try cluster.etcdctl(member).json(["member", "list"], as: EtcdctlJSON.MemberList.self).members
    }

    func testLearnerJoinsIsPromotedAndReplacesARemovedMember() throws {
        let cluster = try startCluster()
        let etcdctl = try cluster.etcdctl()
        for index in 1...20 { try etcdctl.succeed(["put", "before/\(index)", "v\(index)"]) }

        let newcomer = try cluster.addJoiningMember(name: "m4")
        // etcd answers "unhealthy cluster" until its leader has been connected to every voter
        // for 5 s; cairn until the leader has heard from each within an election timeout.
        var added = ""
        try cluster.eventually("the learner is added") {
            added = try etcdctl.succeed(["member", "add", "m4", "--learner", "--peer-urls=\(newcomer.peerURL)"])
            return true
        }
        XCTAssertTrue(added.contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\""), added)
        try newcomer.start()

        // A learner serves serializable reads of the replicated data, and counts for no quorum.
        try cluster.eventually("the learner has the data") {
            try cluster.etcdctl(newcomer).json(["get", "before/", "--prefix", "--consistency=s"], as: EtcdctlJSON.Range.self)
                .kvs.count == 20
        }
        let learner = try XCTUnwrap(try memberList(at: cluster.members[0]).first { $0.peerURLs == [newcomer.peerURL] })
        XCTAssertEqual(learner.isLearner, true)
        try cluster.eventually("the learner publishes its name") {
            try self.memberList(at: cluster.members[0]).first { $0.id == learner.id }?.name == "m4"
        }

        try cluster.eventually("the caught-up learner is promoted") {
            (try? etcdctl.succeed(["member", "promote", learner.hexID])) != nil
        }
        XCTAssertNotEqual(try memberList(at: cluster.members[0]).first { $0.id == learner.id }?.isLearner, true)

        let leaving = cluster.members[2]
        let leavingID = try XCTUnwrap(try memberList(at: cluster.members[0]).first { $0.name == leaving.name }?.id)
        try cluster.etcdctl(cluster.members[0]).succeed(["member", "remove", String(leavingID, radix: 16)])
        try cluster.eventually("the removed member stops itself", timeout: .seconds(20)) { !leaving.isRunning }

        let remaining = cluster.members.filter { $0 !== leaving }
        for member in remaining {
            try cluster.eventually("\(member.name) lists m1, m2, m4 as voters") {
                let list = try self.memberList(at: member)
                return Set(list.map(\.name)) == ["m1", "m2", "m4"] && list.allSatisfy { $0.isLearner != true }
            }
        }
        // The removed member led, perhaps: a write may meet the election (etcd answers such a
        // write with an error too) and is retried, as clients do.
        let survivors = try cluster.etcdctl(remaining[0], remaining[1], remaining[2])
        try cluster.eventually("a write through the survivors commits") {
            try survivors.succeed(["put", "after", "replacement"])
            return true
        }
        for member in remaining {
            try cluster.eventually("\(member.name) sees the write after the replacement") {
                try cluster.etcdctl(member).json(["get", "after"], as: EtcdctlJSON.Range.self).kvs.first?.value == "replacement"
            }
        }
    }
}
