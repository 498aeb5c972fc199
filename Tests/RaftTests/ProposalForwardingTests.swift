import XCTest
@testable import Raft

final class ProposalForwardingTests: XCTestCase {
    func testFollowerForwardsProposalToTheLeader() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.propose(2, "x")
        net.deliverAll()
        XCTAssertEqual(net.messages(where: { $0.type == .propose }).map(\.to), [1])
        for id: NodeID in [1, 2, 3] {
            XCTAssertEqual(net.appliedData(id), [[120]], "node \(id)")
        }
    }

    func testFollowerDropsProposalWhenForwardingIsDisabled() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.disableProposalForwarding = true }
        net.elect(1)
        XCTAssertThrowsError(try net.propose(2, "x")) { error in
            XCTAssertEqual((error as? RaftError)?.code, .proposalDropped)
        }
        net.deliverAll()
        XCTAssertTrue(net.messages(where: { $0.type == .propose }).isEmpty)
        XCTAssertEqual(net.lastIndex(1), 2)
    }

    func testProposalWithoutLeaderIsDropped() {
        let net = TestNetwork(voters: [1, 2, 3])
        XCTAssertThrowsError(try net.propose(1, "x")) { error in
            XCTAssertEqual((error as? RaftError)?.code, .proposalDropped)
        }
    }

    func testCandidateDropsProposals() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.preVote = false }
        net.campaign(1)
        XCTAssertEqual(net.role(1), .candidate)
        XCTAssertThrowsError(try net.propose(1, "x"))
    }

    func testLocalMessagesCannotArriveFromTheNetwork() {
        let net = TestNetwork(voters: [1, 2, 3])
        var node = net.nodes[1]!
        XCTAssertThrowsError(try node.step(Message(type: .hup, to: 1, from: 2))) { error in
            XCTAssertEqual((error as? RaftError)?.code, .invalidMessage)
        }
        XCTAssertEqual(node.status.softState.role, .follower)
    }

    func testForwardedProposalIsDroppedByALeaderTransferringLeadership() throws {
        let net = try TestNetwork.pendingTransferToLaggingNode3()
        try net.propose(2, "b")
        net.deliverAll()
        XCTAssertEqual(net.stepErrors.map(\.code), [.proposalDropped])
        XCTAssertEqual(net.appliedData(1), [[97]])
    }
}
