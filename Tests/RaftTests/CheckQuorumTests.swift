import XCTest
@testable import Raft

/// CheckQuorum: a leader that stops hearing from a quorum steps down, and followers that hear
/// from a leader ignore vote requests (the leader lease).
final class CheckQuorumTests: XCTestCase {
    func testLeaderStepsDownWithoutQuorum() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(1)
        net.tick(1, times: 19)
        XCTAssertEqual(net.role(1), .leader, "followers were active in the first timeout")
        net.tick(1, times: 1)
        XCTAssertEqual(net.role(1), .follower)
        XCTAssertEqual(net.leader(of: 1), .none)
        XCTAssertEqual(net.term(1), 2, "stepping down keeps the term")
    }

    func testLeaderStaysWhileAQuorumIsActive() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(3)
        net.tickAll(times: 50, except: [3])
        XCTAssertEqual(net.role(1), .leader)
        XCTAssertEqual(net.term(1), 2)
    }

    func testLeaderWithoutCheckQuorumStaysLeaderAlone() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.checkQuorum = false }
        net.elect(1)
        net.isolate(1)
        net.tick(1, times: 100)
        XCTAssertEqual(net.role(1), .leader)
    }

    func testFollowerInLeaseIgnoresVoteRequestOfHigherTerm() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.preVote = false }
        net.elect(1)
        net.inject(Message(type: .vote, to: 2, from: 3, term: 5, logTerm: 9, index: 9))
        XCTAssertTrue(net.processReady(2).isEmpty)
        XCTAssertEqual(net.term(2), 2)
        XCTAssertEqual(net.leader(of: 2), 1)
    }

    func testFollowerGrantsVoteOnceTheLeaseHasExpired() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.preVote = false }
        net.elect(1)
        net.isolate(1)
        net.tick(2, times: 10)
        net.inject(Message(type: .vote, to: 2, from: 3, term: 5, logTerm: 9, index: 9))
        let answer = net.processReady(2).first { $0.type == .voteResponse }
        XCTAssertEqual(answer?.reject, false)
        XCTAssertEqual(net.term(2), 5)
    }

    func testDeposedLeaderLearnsTheNewTermFromAFollower() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(1)
        net.tickAll(times: 30, except: [1])
        let newTerm = net.term(2)
        XCTAssertGreaterThan(newTerm, 2)
        XCTAssertEqual(net.role(1), .leader, "node 1 has not ticked: it still believes it leads")

        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.role(1), .follower)
        XCTAssertEqual(net.term(1), newTerm)
    }

    func testSteppedDownLeaderCanBeReelectedWhenPartitionHeals() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(1)
        net.tick(1, times: 20)
        XCTAssertEqual(net.role(1), .follower)
        net.heal()
        net.tickAll(times: 40)
        let leaders = [1, 2, 3].filter { net.role(NodeID($0)) == .leader }
        XCTAssertEqual(leaders.count, 1)
    }
}
