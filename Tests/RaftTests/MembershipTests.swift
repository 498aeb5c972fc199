import XCTest
@testable import Raft

/// Single-step membership changes (Raft thesis §4.1), applied when committed.
final class MembershipTests: XCTestCase {
    func testAddedVoterReceivesTheLogAndJoinsTheMembership() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.propose(1, "before")
        net.deliverAll()
        net.addNode(4)
        try net.proposeConfChange(1, ConfChange(kind: .addNode, nodeID: 4))
        net.deliverAll()
        net.tick(1)
        net.deliverAll()
        for id: NodeID in [1, 2, 3, 4] {
            XCTAssertEqual(net.confStates[id]?.voters, [1, 2, 3, 4], "node \(id)")
        }
        XCTAssertEqual(net.storedEntries(4).last, net.storedEntries(1).last)
        XCTAssertEqual(net.progress(1, of: 4)?.match, net.lastIndex(1))
        XCTAssertEqual(net.appliedData(4), [Array("before".utf8)])
    }

    func testAddedVoterCountsTowardsTheQuorum() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.addNode(4)
        try net.proposeConfChange(1, ConfChange(kind: .addNode, nodeID: 4))
        net.deliverAll()
        net.tick(1)
        net.deliverAll()
        // With four voters, 1 and 2 are no longer a quorum: 3 of 4 are needed.
        net.isolate(3)
        net.isolate(4)
        try net.propose(1, "x")
        net.deliverAll()
        XCTAssertTrue(net.appliedData(1).isEmpty)
        net.heal()
        net.isolate(3)
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.appliedData(1), [[120]])
    }

    func testLearnerReceivesTheLogButDoesNotCountForCommit() throws {
        let net = TestNetwork(voters: [1, 2, 3], learners: [4])
        net.elect(1)
        net.isolate(2)
        net.isolate(3)
        try net.propose(1, "x")
        net.deliverAll()
        XCTAssertEqual(net.lastIndex(4), 3, "the learner stored the entry")
        XCTAssertEqual(net.committed(1), 2, "leader and learner are no quorum")
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.appliedData(4), [[120]])
    }

    func testLearnerNeitherCampaignsNorIsAskedToVote() {
        let net = TestNetwork(voters: [1, 2, 3], learners: [4])
        net.tick(4, times: 100)
        net.deliverAll()
        XCTAssertTrue(net.messages(where: { $0.from == 4 }).isEmpty)
        XCTAssertEqual(net.role(4), .follower)
        net.elect(1)
        XCTAssertTrue(net.messages(where: { $0.to == 4 && ($0.type == .vote || $0.type == .preVote) }).isEmpty)
        net.campaign(4)
        XCTAssertEqual(net.role(4), .follower, "a learner ignores even an explicit campaign")
    }

    func testPromotedLearnerBecomesAVoter() throws {
        let net = TestNetwork(voters: [1, 2, 3], learners: [4])
        net.elect(1)
        try net.proposeConfChange(1, ConfChange(kind: .addNode, nodeID: 4))
        net.deliverAll()
        for id: NodeID in [1, 2, 3, 4] {
            XCTAssertEqual(net.confStates[id], ConfState(voters: [1, 2, 3, 4], learners: []), "node \(id)")
        }
        XCTAssertEqual(net.progress(1, of: 4)?.isLearner, false)
        net.isolate(1)
        net.tick(4, times: 20)
        XCTAssertTrue(net.nodes[4]!.hasReady, "the promoted node now campaigns")
    }

    func testRemovedFollowerStopsReceivingAndQuorumShrinks() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.proposeConfChange(1, ConfChange(kind: .removeNode, nodeID: 3))
        net.deliverAll()
        XCTAssertEqual(net.confStates[1]?.voters, [1, 2])
        XCTAssertNil(net.progress(1, of: 3))
        net.clearSent()
        net.isolate(2)
        try net.propose(1, "x")
        net.deliverAll()
        XCTAssertTrue(net.messages(where: { $0.to == 3 }).isEmpty)
        XCTAssertEqual(net.committed(1), 3, "entry 3 is the conf change; the proposal waits for node 2")
        net.heal()
        net.deliverAll()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.appliedData(1), [[120]])
    }

    func testRemovedFollowerNeverCampaigns() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.proposeConfChange(1, ConfChange(kind: .removeNode, nodeID: 3))
        net.deliverAll()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.confStates[3]?.voters, [1, 2])
        net.isolate(3)
        net.clearSent()
        net.tick(3, times: 100)
        net.deliverAll()
        XCTAssertTrue(net.messages(where: { $0.from == 3 }).isEmpty)
    }

    func testRemovingTheLeaderStepsItDownAndTheRestElectANewLeader() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.proposeConfChange(1, ConfChange(kind: .removeNode, nodeID: 1))
        net.deliverAll()
        XCTAssertEqual(net.role(1), .follower)
        XCTAssertEqual(net.confStates[1]?.voters, [2, 3])
        net.tick(1)
        net.deliverAll()
        net.tickAll(times: 30, except: [1])
        let newLeader = net.leader(of: 2)
        XCTAssertTrue([2, 3].contains(newLeader), "leader \(newLeader)")
        XCTAssertEqual(net.leader(of: 3), newLeader)
        XCTAssertEqual(net.confStates[newLeader]?.voters, [2, 3])
        try net.propose(newLeader, "after")
        net.deliverAll()
        XCTAssertEqual(net.appliedData(2), [Array("after".utf8)])
    }

    func testOnlyOneConfChangeMayBePending() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(2)
        net.isolate(3)
        try net.proposeConfChange(1, ConfChange(kind: .addLearner, nodeID: 4))
        XCTAssertThrowsError(try net.proposeConfChange(1, ConfChange(kind: .addLearner, nodeID: 5))) { error in
            XCTAssertEqual((error as? RaftError)?.code, .proposalDropped)
        }
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.confStates[1]?.learners, [4])
        try net.proposeConfChange(1, ConfChange(kind: .addLearner, nodeID: 5))
        net.deliverAll()
        XCTAssertEqual(net.confStates[1]?.learners, [4, 5])
    }

    func testNewLeaderRefusesConfChangeUntilItsFirstEntryIsApplied() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.drop = { $0.type == .append }
        net.elect(1)
        XCTAssertThrowsError(try net.proposeConfChange(1, ConfChange(kind: .removeNode, nodeID: 3)))
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertNoThrow(try net.proposeConfChange(1, ConfChange(kind: .removeNode, nodeID: 3)))
    }

    func testRemovingTheLastVoterIsRefused() {
        let net = TestNetwork(voters: [1])
        net.elect(1)
        XCTAssertThrowsError(try net.proposeConfChange(1, ConfChange(kind: .removeNode, nodeID: 1)))
    }

    func testDemotingAVoterToLearnerIsRefused() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        XCTAssertThrowsError(try net.proposeConfChange(1, ConfChange(kind: .addLearner, nodeID: 2)))
    }

    func testConfChangeEncodingRoundTrips() throws {
        let change = ConfChange(kind: .addLearner, nodeID: 0x0102_0304_0506_0708, context: Array("http://x".utf8))
        XCTAssertEqual(try ConfChange(decoding: change.encoded), change)
    }

    func testMalformedConfChangeIsRejected() {
        XCTAssertThrowsError(try ConfChange(decoding: [0, 1, 2])) { error in
            XCTAssertEqual((error as? RaftError)?.code, .malformedConfChange)
        }
        XCTAssertThrowsError(try ConfChange(decoding: [9, 0, 0, 0, 0, 0, 0, 0, 0]))
    }

    func testNodeWithCommittedButUnappliedConfChangeDoesNotCampaign() throws {
        let storage = MemoryStorage(bootstrap: ConfState(voters: [1, 2, 3]))
        let change = ConfChange(kind: .removeNode, nodeID: 1)
        storage.append([Entry(term: 1, index: 2, kind: .confChange, data: change.encoded)])
        storage.setHardState(HardState(term: 1, vote: .none, commit: 2))
        var node = try RaftNode(config: RaftConfig(id: 1, randomSeed: 1), storage: storage)
        try node.campaign()
        XCTAssertEqual(node.status.softState.role, .follower,
            "the change may remove this node from the voters: apply it before campaigning")
        let ready = node.ready()
        XCTAssertTrue(ready.messages.isEmpty)
        XCTAssertEqual(ready.committedEntries.map(\.index), [2])
    }

    func testForwardedConfChangeFromAFollowerIsApplied() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.proposeConfChange(3, ConfChange(kind: .addLearner, nodeID: 4))
        net.deliverAll()
        for id: NodeID in [1, 2, 3] {
            XCTAssertEqual(net.confStates[id]?.learners, [4], "node \(id)")
        }
    }
}
