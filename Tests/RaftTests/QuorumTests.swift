import XCTest
@testable import Raft

final class QuorumTests: XCTestCase {
    func testQuorumIsAStrictMajority() {
        XCTAssertEqual([1, 2, 3, 4, 5, 6, 7].map(Majority.quorum(of:)), [1, 2, 2, 3, 3, 4, 4])
    }

    func testCommittedIndexIsTheHighestIndexHeldByAQuorum() {
        let match: [NodeID: LogIndex] = [1: 9, 2: 7, 3: 5, 4: 3, 5: 1]
        XCTAssertEqual(Majority.committedIndex(voters: [1, 2, 3, 4, 5]) { match[$0] }, 5)
        XCTAssertEqual(Majority.committedIndex(voters: [1, 2, 3]) { match[$0] }, 7)
        XCTAssertEqual(Majority.committedIndex(voters: [1, 2, 3, 4]) { match[$0] }, 5)
        XCTAssertEqual(Majority.committedIndex(voters: [1]) { match[$0] }, 9)
    }

    func testVotersWithoutProgressCountAsZero() {
        XCTAssertEqual(Majority.committedIndex(voters: [1, 2, 3]) { $0 == 1 ? 8 : nil }, 0)
        XCTAssertEqual(Majority.committedIndex(voters: [1, 2, 3]) { $0 == 3 ? nil : 8 }, 8)
    }

    func testNoVotersCommitNothing() {
        XCTAssertEqual(Majority.committedIndex(voters: []) { _ in 5 }, 0)
    }

    func testVoteResultIsPendingUntilDecided() {
        let voters: Set<NodeID> = [1, 2, 3, 4, 5]
        XCTAssertEqual(Majority.result(voters: voters, votes: [1: true, 2: true]), .pending)
        XCTAssertEqual(Majority.result(voters: voters, votes: [1: true, 2: true, 3: true]), .won)
        XCTAssertEqual(Majority.result(voters: voters, votes: [1: false, 2: false]), .pending)
        XCTAssertEqual(Majority.result(voters: voters, votes: [1: false, 2: false, 3: false]), .lost)
        XCTAssertEqual(Majority.result(voters: voters, votes: [1: true, 2: true, 3: false, 4: false, 5: false]), .lost)
    }

    func testVotesFromNonVotersAreIgnored() {
        XCTAssertEqual(Majority.result(voters: [1, 2, 3], votes: [1: true, 7: true, 8: true]), .pending)
    }

    func testEvenGroupNeedsMoreThanHalf() {
        XCTAssertEqual(Majority.result(voters: [1, 2, 3, 4], votes: [1: true, 2: true, 3: false, 4: false]), .lost)
        XCTAssertEqual(Majority.result(voters: [1, 2, 3, 4], votes: [1: true, 2: true]), .pending)
    }

    func testTrackerCountsOnlyTheFirstVoteOfEachVoter() {
        var tracker = ProgressTracker(maxInflight: 4)
        tracker.reset(to: ConfState(voters: [1, 2, 3]), next: 1)
        tracker.recordVote(2, granted: false)
        tracker.recordVote(2, granted: true)
        tracker.recordVote(1, granted: true)
        XCTAssertEqual(tracker.tallyVotes(), .pending, "a duplicate response must not flip a rejection")
    }

    func testCheckQuorumActiveClearsMarksForTheNextRound() {
        var tracker = ProgressTracker(maxInflight: 4)
        tracker.reset(to: ConfState(voters: [1, 2, 3], learners: [4]), next: 1)
        tracker.progress[2]!.recentActive = true
        tracker.progress[4]!.recentActive = true
        XCTAssertTrue(tracker.checkQuorumActive(selfID: 1))
        XCTAssertFalse(tracker.checkQuorumActive(selfID: 1), "marks were cleared")
        tracker.progress[4]!.recentActive = true
        XCTAssertFalse(tracker.checkQuorumActive(selfID: 1), "a learner is not part of the quorum")
    }
}
