import XCTest
@testable import Raft

/// PreVote (Raft thesis §9.6): a node that cannot win does not raise terms and disrupt the group.
final class PreVoteTests: XCTestCase {
    func testPartitionedNodeRejoiningDoesNotDisruptTheLeader() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        let term = net.term(1)
        net.isolate(3)
        for _ in 0..<50 {
            net.tick(3)
            net.tickAll(times: 1, except: [3])
        }
        XCTAssertEqual(net.term(3), term, "pre-elections do not raise the term")
        try net.propose(1, "x")
        net.deliverAll()

        net.heal()
        net.tickAll(times: 30)
        XCTAssertEqual(net.role(1), .leader)
        XCTAssertEqual(net.term(1), term)
        XCTAssertEqual(net.term(3), term)
        XCTAssertEqual(net.leader(of: 3), 1)
        XCTAssertEqual(net.appliedData(3), [[120]])
    }

    func testPreVoteAloneRejectsRejoiningNodeWithStaleLog() throws {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.checkQuorum = false }
        net.elect(1)
        let term = net.term(1)
        net.isolate(3)
        try net.propose(1, "x")
        net.deliverAll()
        net.tick(3, times: 25)
        XCTAssertEqual(net.role(3), .preCandidate)

        net.heal()
        net.deliverAll()
        XCTAssertEqual(net.term(1), term)
        XCTAssertEqual(net.role(1), .leader)
        let rejections = net.messages(where: { $0.type == .preVoteResponse && $0.to == 3 && $0.reject })
        XCTAssertEqual(rejections.count, 2)
    }

    func testLosingPreCandidateKeepsItsTerm() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.isolate(1)
        net.tick(1, times: 100)
        net.deliverAll()
        XCTAssertEqual(net.term(1), 1)
        XCTAssertEqual(net.vote(1), .none)
        XCTAssertEqual(net.role(1), .preCandidate)
        XCTAssertTrue(net.messages(where: { $0.from == 1 }).allSatisfy { $0.type == .preVote && $0.term == 2 })
    }

    func testWinningPreCandidateRunsARealElectionForTheNextTerm() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        XCTAssertEqual(net.term(1), 2)
        let preVotes = net.messages(where: { $0.type == .preVote })
        let votes = net.messages(where: { $0.type == .vote })
        XCTAssertEqual(preVotes.count, 2)
        XCTAssertEqual(votes.count, 2)
        XCTAssertTrue(votes.allSatisfy { $0.term == 2 })
    }

    func testGrantingAPreVoteChangesNeitherTermNorVote() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.inject(Message(type: .preVote, to: 2, from: 1, term: 2, logTerm: 1, index: 1))
        let answer = net.processReady(2).first { $0.type == .preVoteResponse }
        XCTAssertEqual(answer?.reject, false)
        XCTAssertEqual(answer?.term, 2, "the grant is for the term the pre-candidate would run in")
        XCTAssertEqual(net.term(2), 1)
        XCTAssertEqual(net.vote(2), .none)
    }

    func testPreVoteIsGrantedEvenAfterVotingInTheCurrentTerm() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.checkQuorum = false }
        net.inject(Message(type: .vote, to: 2, from: 3, term: 2, logTerm: 1, index: 1))
        net.processReady(2)
        net.inject(Message(type: .preVote, to: 2, from: 1, term: 3, logTerm: 1, index: 1))
        let answer = net.processReady(2).first { $0.type == .preVoteResponse }
        XCTAssertEqual(answer?.reject, false, "a pre-vote for a later term is not bound by this term's vote")
        XCTAssertEqual(net.vote(2), 3)
    }

    func testPreCandidateReturnsToFollowerOnLeadersHeartbeat() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(3)
        net.tick(3, times: 25)
        XCTAssertEqual(net.role(3), .preCandidate)
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.role(3), .follower)
        XCTAssertEqual(net.leader(of: 3), 1)
    }
}
