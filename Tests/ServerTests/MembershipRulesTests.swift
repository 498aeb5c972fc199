import API
import GRPCCore
import Raft
import Storage
import XCTest

@testable import Server

/// etcd's strict reconfiguration rules, checked before a change is proposed.
final class MembershipRulesTests: XCTestCase {
    private func member(_ id: UInt64, started: Bool = true, learner: Bool = false) -> MemberRecord {
        MemberRecord(id: id, name: started ? "m\(id)" : "", peerURLs: ["http://10.0.0.\(id):2380"], isLearner: learner)
    }

    private func refusal(_ check: () throws -> Void) -> String? { refusalMessage(check) }

    private let notEnough = "etcdserver: re-configuration failed due to not enough started members"

    func testAddingAVoterNeedsAStartedQuorumAfterwards() {
        let url = ["http://10.0.0.9:2380"]
        XCTAssertNil(refusal { try Membership.checkAdd([member(1)], peerURLs: url, isLearner: false) },
            "a lone started member may take a second voter")
        XCTAssertEqual(refusal { try Membership.checkAdd([member(1), member(2, started: false)], peerURLs: url, isLearner: false) },
            notEnough)
        XCTAssertNil(refusal { try Membership.checkAdd([member(1), member(2)], peerURLs: url, isLearner: false) })
        XCTAssertNil(refusal { try Membership.checkAdd([member(1), member(2), member(3)], peerURLs: url, isLearner: false) })
        XCTAssertEqual(refusal { try Membership.checkAdd([member(1), member(2), member(3, started: false)], peerURLs: url, isLearner: false) },
            notEnough, "four voters need three started")
        XCTAssertEqual(refusal {
            try Membership.checkAdd([member(1), member(2, started: false), member(3, started: false)], peerURLs: url, isLearner: false)
        }, notEnough)
        XCTAssertNil(refusal { try Membership.checkAdd([member(1)], peerURLs: url, isLearner: true) })
        XCTAssertEqual(refusal { try Membership.checkAdd([member(1), member(2, learner: true)], peerURLs: url, isLearner: true) },
            "etcdserver: too many learner members in cluster")
        XCTAssertEqual(refusal { try Membership.checkAdd([member(1)], peerURLs: member(1).peerURLs, isLearner: true) },
            "etcdserver: Peer URLs already exists")
        XCTAssertEqual(refusal { try Membership.checkAdd([member(1)], peerURLs: ["not a url"], isLearner: true) },
            "etcdserver: given member URLs are invalid")
        XCTAssertEqual(refusal { try Membership.checkAdd([member(1)], peerURLs: [], isLearner: true) },
            "etcdserver: given member URLs are invalid")
    }

    func testRemovingAVoterMustLeaveAStartedQuorum() {
        let three = [member(1), member(2), member(3)]
        XCTAssertNil(refusal { try Membership.checkRemove(three, id: 3) })
        XCTAssertEqual(refusal { try Membership.checkRemove([member(1)], id: 1) }, notEnough)
        XCTAssertEqual(refusal { try Membership.checkRemove([member(1), member(2, started: false), member(3)], id: 3) }, notEnough)
        XCTAssertNil(refusal { try Membership.checkRemove([member(1), member(2, learner: true)], id: 2) }, "learners never count")
        XCTAssertEqual(refusal { try Membership.checkRemove(three, id: 4) }, "etcdserver: member not found")
    }

    func testPromotingNeedsALearnerInSyncWithTheLeader() {
        let members = [member(1), member(2, learner: true)]
        func progress(leader: LogIndex, learner: LogIndex) -> [NodeID: LogIndex] { [1: leader, 2: learner] }
        XCTAssertNil(refusal { try Membership.checkPromote(members, id: 2, leader: 1, matched: progress(leader: 100, learner: 90)) })
        XCTAssertEqual(refusal { try Membership.checkPromote(members, id: 2, leader: 1, matched: progress(leader: 100, learner: 89)) },
            "etcdserver: can only promote a learner member which is in sync with leader")
        XCTAssertEqual(refusal { try Membership.checkPromote(members, id: 1, leader: 1, matched: progress(leader: 1, learner: 1)) },
            "etcdserver: can only promote a learner member")
        XCTAssertEqual(refusal { try Membership.checkPromote(members, id: 2, leader: 1, matched: [:]) }, "etcdserver: not leader")
        XCTAssertEqual(refusal { try Membership.checkPromote(members, id: 7, leader: 1, matched: [:]) }, "etcdserver: member not found")
    }

    func testUpdateRefusesAnotherMembersURLs() {
        let members = [member(1), member(2)]
        XCTAssertNil(refusal { try Membership.checkUpdate(members, id: 1, peerURLs: ["http://10.0.0.1:2390"]) })
        XCTAssertNil(refusal { try Membership.checkUpdate(members, id: 1, peerURLs: member(1).peerURLs) })
        XCTAssertEqual(refusal { try Membership.checkUpdate(members, id: 1, peerURLs: member(2).peerURLs) },
            "etcdserver: Peer URLs already exists")
        XCTAssertEqual(refusal { try Membership.checkUpdate(members, id: 9, peerURLs: ["http://10.0.0.9:2380"]) },
            "etcdserver: member not found")
    }

    func testReconfigurationWaitsForEveryVoterToBeReachable() {
        let members = [member(1), member(2), member(3), member(4, learner: true)]
        XCTAssertNil(refusal { try Membership.checkHealthy(members, leader: 1, self: 1, recentlyActive: [1, 2, 3]) },
            "a silent learner does not make the cluster unhealthy")
        XCTAssertEqual(refusal { try Membership.checkHealthy(members, leader: 1, self: 1, recentlyActive: [1, 2]) },
            "etcdserver: unhealthy cluster")
        XCTAssertNil(refusal { try Membership.checkHealthy(members, leader: 1, self: 2, recentlyActive: []) },
            "a follower cannot tell; the leader decides when the change reaches it")
        XCTAssertEqual(refusal { try Membership.checkHealthy(members, leader: 0, self: 2, recentlyActive: []) },
            "etcdserver: no leader")
    }
}
