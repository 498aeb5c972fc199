import XCTest
@testable import Raft

/// Leadership transfer (Raft thesis §3.10) with TimeoutNow.
final class LeaderTransferTests: XCTestCase {
    func testTransferToUpToDateFollowerSendsTimeoutNowAndItWins() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.transferLeadership(on: 1, to: 2)
        net.deliverAll()
        XCTAssertEqual(net.messages(where: { $0.type == .timeoutNow }).map(\.to), [2])
        XCTAssertEqual(net.role(2), .leader)
        XCTAssertEqual(net.term(2), 3)
        XCTAssertEqual(net.role(1), .follower)
        XCTAssertEqual(net.leader(of: 1), 2)
        XCTAssertTrue(net.messages(where: { $0.type == .preVote && $0.from == 2 }).isEmpty,
            "a transfer campaign skips the pre-vote: the leader asked for it")
    }

    func testTransfereeCatchesUpBeforeTimeoutNow() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(3)
        for value in ["a", "b", "c"] { try net.propose(1, value) }
        net.deliverAll()
        net.heal()
        net.transferLeadership(on: 1, to: 3)
        net.deliverAll()
        let timeoutNow = net.messages(where: { $0.type == .timeoutNow }).first
        XCTAssertNotNil(timeoutNow)
        XCTAssertEqual(net.role(3), .leader)
        XCTAssertEqual(net.appliedData(3), [[97], [98], [99]])
    }

    func testTimeoutNowWaitsWhileTransfereeIsBehind() throws {
        let net = try TestNetwork.pendingTransferToLaggingNode3()
        net.deliverAll()
        XCTAssertTrue(net.messages(where: { $0.type == .timeoutNow }).isEmpty)
        XCTAssertEqual(net.status(1).leadTransferee, 3)
        XCTAssertEqual(net.role(1), .leader)
    }

    func testProposalsAreDroppedDuringTransfer() throws {
        let net = try TestNetwork.pendingTransferToLaggingNode3()
        XCTAssertThrowsError(try net.propose(1, "b")) { error in
            XCTAssertEqual((error as? RaftError)?.code, .proposalDropped)
        }
    }

    func testTransferIsAbortedAfterAnElectionTimeout() throws {
        let net = try TestNetwork.pendingTransferToLaggingNode3()
        net.tickAll(times: 9)
        XCTAssertEqual(net.status(1).leadTransferee, 3)
        net.tickAll(times: 1)
        XCTAssertEqual(net.status(1).leadTransferee, .none)
        XCTAssertEqual(net.role(1), .leader)
        XCTAssertNoThrow(try net.propose(1, "b"))
    }

    func testTransferCampaignOverridesVotersLease() {
        // With CheckQuorum, voters ignore ordinary vote requests while they hear from a leader;
        // the transfer campaign says the leader itself asked for it.
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.transferLeadership(on: 1, to: 3)
        net.deliverAll()
        XCTAssertEqual(net.role(3), .leader)
        let votes = net.messages(where: { $0.type == .vote && $0.from == 3 })
        XCTAssertTrue(votes.allSatisfy { $0.context == Message.transferContext })
    }

    func testTransferRequestOnAFollowerIsForwardedToTheLeader() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.transferLeadership(on: 2, to: 2)
        net.deliverAll()
        XCTAssertEqual(net.role(2), .leader)
    }

    func testTransferToItselfOrALearnerIsIgnored() {
        let net = TestNetwork(voters: [1, 2, 3], learners: [4])
        net.elect(1)
        net.transferLeadership(on: 1, to: 1)
        net.transferLeadership(on: 1, to: 4)
        net.deliverAll()
        XCTAssertEqual(net.status(1).leadTransferee, .none)
        XCTAssertTrue(net.messages(where: { $0.type == .timeoutNow }).isEmpty)
        XCTAssertEqual(net.role(1), .leader)
    }

    func testNewerTransferReplacesThePendingOne() throws {
        let net = try TestNetwork.pendingTransferToLaggingNode3()
        net.transferLeadership(on: 1, to: 2)
        net.deliverAll()
        XCTAssertEqual(net.role(2), .leader)
    }
}
