import XCTest
@testable import Raft

/// Log compaction and snapshot installation on followers that fell behind it.
final class SnapshotTests: XCTestCase {
    /// A 3-node group where node 3 missed entries that node 1 then compacted away.
    private func groupWithCompactedLeader() throws -> TestNetwork {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(3)
        for value in ["a", "b", "c", "d"] { try net.propose(1, value) }
        net.deliverAll()
        let applied = net.appliedIndex[1]!
        XCTAssertEqual(applied, 6)
        let storage = net.storages[1]!
        try storage.createSnapshot(at: applied, confState: net.confStates[1]!, data: Array("state@6".utf8))
        try storage.compact(upTo: applied)
        return net
    }

    func testLaggingFollowerReceivesSnapshotAfterCompaction() throws {
        let net = try groupWithCompactedLeader()
        net.heal()
        net.tick(1)
        net.deliverAll()
        let snapshots = net.messages(where: { $0.type == .snapshot && $0.to == 3 })
        XCTAssertEqual(snapshots.count, 1)
        XCTAssertEqual(net.installedSnapshots[3]!.map(\.metadata.index), [6])
        XCTAssertEqual(net.installedSnapshots[3]!.first?.data, Array("state@6".utf8))
        XCTAssertEqual(net.storages[3]!.firstIndex(), 7)
        XCTAssertEqual(net.committed(3), 6)
        XCTAssertEqual(net.progress(1, of: 3)?.state, .replicate)
        XCTAssertEqual(net.progress(1, of: 3)?.match, 6)
    }

    func testFollowerReplicatesEntriesAfterTheSnapshot() throws {
        let net = try groupWithCompactedLeader()
        try net.propose(1, "e")
        net.deliverAll()
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.storedEntries(3), net.storedEntries(1))
        XCTAssertEqual(net.applied[3]!.map(\.index), [2, 7], "entries 3 to 6 arrived inside the snapshot")
        XCTAssertEqual(net.appliedData(3), [[101]])
    }

    func testFollowerAppliedIndexReachesTheSnapshotIndex() throws {
        let net = try groupWithCompactedLeader()
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.status(3).applied, 6, "raft must know the state machine is at the snapshot")
    }

    func testSnapshotIsNotSentToAFollowerNotRecentlyActive() throws {
        let net = try groupWithCompactedLeader()
        // The leader cleared node 3's activity at the last quorum check and has not heard from it.
        net.tickAll(times: 10, except: [3])
        XCTAssertEqual(net.progress(1, of: 3)?.recentActive, false)
        net.withNode(1) { $0.reportUnreachable(3) }
        net.clearSent()
        try net.propose(1, "e")
        net.deliverAll()
        XCTAssertEqual(net.progress(1, of: 3)?.state, .probe, "probing from the match needs compacted entries")
        XCTAssertTrue(net.messages(where: { $0.type == .snapshot }).isEmpty)
    }

    func testStaleSnapshotIsIgnoredAndAnsweredWithTheCommitIndex() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.propose(1, "a")
        net.deliverAll()
        // Term 1 does not match node 2's entry 2: only the commit check keeps it from wiping the log.
        let old = Snapshot(metadata: SnapshotMetadata(index: 2, term: 1, confState: ConfState(voters: [1, 2, 3])))
        net.inject(Message(type: .snapshot, to: 2, from: 1, term: net.term(1), snapshot: old))
        let answer = net.processReady(2).first { $0.type == .appendResponse }
        XCTAssertEqual(answer?.index, 3)
        XCTAssertTrue(net.installedSnapshots[2]!.isEmpty)
        XCTAssertEqual(net.lastIndex(2), 3)
    }

    func testSnapshotMatchingTheFollowersLogOnlyAdvancesCommit() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.drop = { $0.type == .append && $0.to == 2 && $0.entries.isEmpty }
        try net.propose(1, "a")
        net.deliverAll()
        XCTAssertEqual(net.committed(2), 2)
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 3, term: 2, confState: ConfState(voters: [1, 2, 3])))
        net.inject(Message(type: .snapshot, to: 2, from: 1, term: 2, snapshot: snapshot))
        net.processReady(2)
        XCTAssertTrue(net.installedSnapshots[2]!.isEmpty, "the log already holds the snapshot's last entry")
        XCTAssertEqual(net.committed(2), 3)
        XCTAssertEqual(net.appliedData(2), [[97]])
    }

    func testSnapshotRestoresMembershipOnTheFollower() throws {
        let net = try groupWithCompactedLeader()
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.status(3).confState, ConfState(voters: [1, 2, 3]))
    }

    func testFailedSnapshotSendReturnsFollowerToProbe() throws {
        let net = try groupWithCompactedLeader()
        net.heal()
        net.drop = { $0.type == .snapshot }
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.progress(1, of: 3)?.state, .snapshot)
        net.withNode(1) { $0.reportSnapshot(to: 3, succeeded: false) }
        XCTAssertEqual(net.progress(1, of: 3)?.state, .probe)
    }

    func testRestartedNodeResumesFromItsSnapshotAndLog() throws {
        let net = try groupWithCompactedLeader()
        net.heal()
        net.tick(1)
        net.deliverAll()
        net.restart(3)
        XCTAssertEqual(net.committed(3), 6)
        XCTAssertEqual(net.lastIndex(3), net.lastIndex(1))
        XCTAssertFalse(net.nodes[3]!.hasReady, "nothing applied before the restart is handed out again")
    }

    func testNodeAddedAfterCompactionCatchesUpFromTheSnapshot() throws {
        let net = try groupWithCompactedLeader()
        net.heal()
        net.addNode(4)
        try net.proposeConfChange(1, ConfChange(kind: .addNode, nodeID: 4))
        net.deliverAll()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.installedSnapshots[4]!.map(\.metadata.index), [6])
        XCTAssertEqual(net.confStates[4]?.voters, [1, 2, 3, 4])
        XCTAssertEqual(net.storedEntries(4), net.storedEntries(1))
        XCTAssertEqual(net.progress(1, of: 4)?.state, .replicate)
    }
}
