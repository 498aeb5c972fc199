import XCTest
@testable import Raft

/// How a voter answers vote requests (§5.2, §5.4.1). Node 1 holds entries 2 and 3 of term 2.
final class VoteGrantingTests: XCTestCase {
    private func voterWithLog() -> TestNetwork {
        TestNetwork(voters: [1, 2, 3], logs: [1: [Entry(term: 2, index: 2), Entry(term: 2, index: 3)]], term: 2)
    }

    private func request(
        _ net: TestNetwork, from candidate: NodeID, term: Term, lastTerm: Term, lastIndex: LogIndex,
        type: MessageType = .vote
    ) -> Message? {
        net.inject(Message(type: type, to: 1, from: candidate, term: term, logTerm: lastTerm, index: lastIndex))
        let response: MessageType = type == .vote ? .voteResponse : .preVoteResponse
        return net.processReady(1).first { $0.type == response && $0.to == candidate }
    }

    func testGrantsVoteToUpToDateCandidateOfNewerTerm() {
        let net = voterWithLog()
        let answer = request(net, from: 2, term: 3, lastTerm: 2, lastIndex: 3)
        XCTAssertEqual(answer?.reject, false)
        XCTAssertEqual(answer?.term, 3)
        XCTAssertEqual(net.term(1), 3)
        XCTAssertEqual(net.vote(1), 2)
        XCTAssertEqual(net.storages[1]!.hardState.vote, 2, "the vote must be persisted before it is sent")
    }

    func testGrantsAtMostOneVotePerTerm() {
        let net = voterWithLog()
        XCTAssertEqual(request(net, from: 2, term: 3, lastTerm: 2, lastIndex: 3)?.reject, false)
        XCTAssertEqual(request(net, from: 3, term: 3, lastTerm: 2, lastIndex: 3)?.reject, true)
        XCTAssertEqual(net.vote(1), 2)
    }

    func testRepeatsGrantToTheSameCandidateWithinATerm() {
        let net = voterWithLog()
        XCTAssertEqual(request(net, from: 2, term: 3, lastTerm: 2, lastIndex: 3)?.reject, false)
        XCTAssertEqual(request(net, from: 2, term: 3, lastTerm: 2, lastIndex: 3)?.reject, false,
            "a retransmitted request must get the same answer")
    }

    func testGrantsAgainInALaterTerm() {
        let net = voterWithLog()
        XCTAssertEqual(request(net, from: 2, term: 3, lastTerm: 2, lastIndex: 3)?.reject, false)
        XCTAssertEqual(request(net, from: 3, term: 4, lastTerm: 2, lastIndex: 3)?.reject, false)
        XCTAssertEqual(net.vote(1), 3)
    }

    func testRejectsCandidateWhoseLastTermIsOlder() {
        let net = voterWithLog()
        let answer = request(net, from: 2, term: 3, lastTerm: 1, lastIndex: 10)
        XCTAssertEqual(answer?.reject, true)
        XCTAssertEqual(net.vote(1), .none)
        XCTAssertEqual(net.term(1), 3, "a higher term is adopted even when the vote is refused")
    }

    func testRejectsCandidateWithSameLastTermButShorterLog() {
        let net = voterWithLog()
        XCTAssertEqual(request(net, from: 2, term: 3, lastTerm: 2, lastIndex: 2)?.reject, true)
        XCTAssertEqual(net.vote(1), .none)
    }

    func testGrantsCandidateWithNewerLastTermEvenIfShorter() {
        let net = voterWithLog()
        XCTAssertEqual(request(net, from: 2, term: 4, lastTerm: 3, lastIndex: 2)?.reject, false)
    }

    func testIgnoresVoteRequestOfStaleTerm() {
        let net = TestNetwork(voters: [1, 2, 3], term: 5)
        let answer = request(net, from: 2, term: 4, lastTerm: 9, lastIndex: 9)
        XCTAssertNil(answer, "a stale candidate gets no grant")
        XCTAssertEqual(net.term(1), 5)
        XCTAssertEqual(net.vote(1), .none)
    }

    func testRejectsStalePreVoteWithCurrentTerm() {
        let net = TestNetwork(voters: [1, 2, 3], term: 5)
        let answer = request(net, from: 2, term: 4, lastTerm: 9, lastIndex: 9, type: .preVote)
        XCTAssertEqual(answer?.reject, true)
        XCTAssertEqual(answer?.term, 5, "the rejection tells the pre-candidate the current term")
    }

    func testLeaderRefusesVoteInItsOwnTerm() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        let answer = request(net, from: 2, term: net.term(1), lastTerm: 99, lastIndex: 99)
        XCTAssertEqual(answer?.reject, true)
        XCTAssertEqual(net.role(1), .leader)
    }

    func testLeaderStepsDownOnVoteRequestOfHigherTermWithoutCheckQuorum() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.checkQuorum = false }
        net.elect(1)
        let term = net.term(1)
        let answer = request(net, from: 2, term: term + 1, lastTerm: 1, lastIndex: 1)
        XCTAssertEqual(net.role(1), .follower)
        XCTAssertEqual(net.term(1), term + 1)
        XCTAssertEqual(answer?.reject, true, "the candidate's log lacks the leader's entry of term \(term)")
    }

    func testGrantingAVoteResetsTheElectionTimer() {
        // Both networks move node 1 to term 2 the same way, which also draws its randomized
        // timeout; the first one measures that timeout.
        func followerAtTerm2() -> TestNetwork {
            let net = TestNetwork(voters: [1, 2, 3])
            XCTAssertEqual(request(net, from: 3, term: 2, lastTerm: 0, lastIndex: 0)?.reject, true)
            return net
        }
        let probe = followerAtTerm2()
        var timeoutTicks = 0
        while !probe.nodes[1]!.hasReady && timeoutTicks < 100 {
            probe.tick(1)
            timeoutTicks += 1
        }
        XCTAssertGreaterThanOrEqual(timeoutTicks, 10)

        let net = followerAtTerm2()
        net.tick(1, times: timeoutTicks - 1)
        XCTAssertEqual(request(net, from: 2, term: 2, lastTerm: 1, lastIndex: 1)?.reject, false)
        net.tick(1, times: timeoutTicks - 1)
        XCTAssertFalse(net.nodes[1]!.hasReady, "a voter that just granted must wait a full timeout")
        XCTAssertEqual(net.role(1), .follower)
    }
}
