import XCTest
@testable import Raft

/// When entries commit (§5.3, §5.4.2) and how followers learn it.
final class CommitRuleTests: XCTestCase {
    func testEntryCommitsOnceStoredOnAMajority() throws {
        let net = TestNetwork(voters: [1, 2, 3, 4, 5])
        net.elect(1)
        net.isolate(4)
        net.isolate(5)
        try net.propose(1, "x")
        net.deliverAll()
        XCTAssertEqual(net.committed(1), 3)
        XCTAssertEqual(net.appliedData(1), [[120]])
    }

    func testEntryDoesNotCommitWithoutAMajority() throws {
        let net = TestNetwork(voters: [1, 2, 3, 4, 5])
        net.elect(1)
        for id: NodeID in [3, 4, 5] { net.isolate(id) }
        try net.propose(1, "x")
        net.deliverAll()
        XCTAssertEqual(net.lastIndex(2), 3, "the entry reached node 2")
        XCTAssertEqual(net.committed(1), 2, "but 2 of 5 is no quorum")
        XCTAssertTrue(net.appliedData(1).isEmpty)

        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.committed(1), 3)
        XCTAssertEqual(net.appliedData(5), [[120]])
    }

    /// Figure 8: an entry of an earlier term stored on a majority may still be overwritten by a
    /// later leader, so the current leader must not count replicas of it; it commits once an
    /// entry of its own term is stored on a majority.
    func testOldTermEntryOnMajorityIsNotCommittedUntilACurrentTermEntryIs() {
        let net = TestNetwork(voters: [1, 2, 3], logs: [1: [Entry(term: 2, index: 2, data: [7])]], term: 3) {
            $0.preVote = false
            $0.maxSizePerMessageBytes = 1  // one entry per append, so entry 2 can travel alone
        }
        // Node 2 is down; node 3 may receive entry 2 (term 2) but not the leader's entry 3.
        net.isolate(2)
        net.drop = { [unowned net] message in
            message.type == .append && message.to == 3 && message.entries.contains { $0.index == 3 }
                && net.storages[3]!.lastIndex() >= 2
        }
        net.elect(1)
        XCTAssertEqual(net.term(1), 4)
        XCTAssertEqual(net.storedTerm(3, at: 2), 2, "entry 2 of term 2 is on a majority (nodes 1 and 3)")
        XCTAssertEqual(net.progress(1, of: 3)?.match, 2)
        XCTAssertEqual(net.committed(1), 1, "an old-term entry must not commit by counting replicas")
        XCTAssertTrue(net.applied[1]!.isEmpty)

        net.drop = { _ in false }
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.committed(1), 3, "the current-term entry commits, and entry 2 with it")
        XCTAssertEqual(net.applied[1]!.map(\.index), [2, 3])
        XCTAssertEqual(net.committed(3), 3)
    }

    func testFollowerLearnsCommitIndexFromHeartbeat() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        // Node 3 gets the entry, but not the empty append that would tell it the entry committed.
        net.drop = { $0.type == .append && $0.to == 3 && $0.entries.isEmpty }
        try net.propose(1, "x")
        net.deliverAll()
        XCTAssertEqual(net.committed(1), 3)
        XCTAssertEqual(net.lastIndex(3), 3)
        XCTAssertEqual(net.committed(3), 2)

        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.committed(3), 3)
        XCTAssertEqual(net.appliedData(3), [[120]])
    }

    func testHeartbeatNeverCommitsPastWhatTheFollowerIsKnownToHold() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.drop = { $0.type == .append && $0.to == 3 }
        try net.propose(1, "x")
        net.deliverAll()
        net.tick(1)
        net.deliverAll()
        let heartbeats = net.messages(where: { $0.type == .heartbeat && $0.to == 3 })
        XCTAssertFalse(heartbeats.isEmpty)
        XCTAssertTrue(heartbeats.allSatisfy { $0.commit <= 2 }, "node 3 only holds up to index 2")
        XCTAssertEqual(net.committed(3), 2)
    }

    func testLeaderCommitIsCarriedOnAppendToFollowers() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.propose(1, "x")
        net.deliverAll()
        for id: NodeID in [2, 3] {
            XCTAssertEqual(net.committed(id), net.committed(1), "node \(id)")
        }
    }

    func testCommittedEntriesAreAppliedExactlyOnceInOrderDespiteDuplicates() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        for round in 0..<5 {
            try net.propose(1, "v\(round)")
            net.deliverAll()
            // Replay every append and heartbeat sent so far: a network may duplicate anything.
            for message in net.sent where message.type == .append || message.type == .heartbeat {
                net.inject(message)
            }
            net.deliverAll()
        }
        let expected = (0..<5).map { Array("v\($0)".utf8) }
        for id: NodeID in [1, 2, 3] {
            XCTAssertEqual(net.appliedData(id), expected, "node \(id)")
            XCTAssertEqual(net.applied[id]!.map(\.index), Array(2...7), "node \(id)")
        }
    }

    func testAppliedBatchRespectsMaxCommittedSizePerReady() throws {
        let net = TestNetwork(voters: [1]) { $0.maxCommittedSizePerReadyBytes = 30 }
        net.elect(1)
        var node = net.nodes[1]!
        for value in ["aaaa", "bbbb", "cccc"] { try node.propose(Array(value.utf8)) }
        let ready = node.ready()
        XCTAssertEqual(ready.committedEntries.count, 1, "each entry is 28 bytes: one per Ready")
    }
}
