import XCTest
@testable import Raft

/// Follower progress states and flow control on the leader.
final class ProgressTests: XCTestCase {
    func testInflightWindowStopsLeaderAtMaxInflightMessages() throws {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.maxInflightMessages = 3 }
        net.elect(1)
        XCTAssertEqual(net.progress(1, of: 2)?.state, .replicate)
        net.clearSent()
        net.drop = { $0.to == 2 }
        for round in 0..<6 {
            try net.propose(1, "v\(round)")
            net.deliverAll()
        }
        // Empty appends that only carry the commit index do not occupy the window.
        let appends = net.messages(where: { $0.type == .append && $0.to == 2 && !$0.entries.isEmpty })
        XCTAssertEqual(appends.count, 3)
        XCTAssertEqual(net.progress(1, of: 2)?.inflights.isFull, true)
        XCTAssertEqual(net.committed(1), 8, "node 3 keeps the group committing")
    }

    func testAcknowledgementFreesTheWindowAndStreamingResumes() throws {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.maxInflightMessages = 2 }
        net.elect(1)
        net.drop = { $0.type == .appendResponse && $0.from == 2 }
        for round in 0..<4 {
            try net.propose(1, "v\(round)")
            net.deliverAll()
        }
        XCTAssertEqual(net.lastIndex(2), 4, "two appends in flight, then the leader waits")
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.lastIndex(2), 6)
        XCTAssertEqual(net.progress(1, of: 2)?.match, 6)
    }

    func testFollowerRecoversAfterLosingAFullInflightWindow() throws {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.maxInflightMessages = 2 }
        net.elect(1)
        net.drop = { $0.to == 2 }
        for round in 0..<4 {
            try net.propose(1, "v\(round)")
            net.deliverAll()
        }
        net.heal()
        net.tickAll(times: 5)
        XCTAssertEqual(net.lastIndex(2), 6, "heartbeat responses must let the leader find the follower again")
        XCTAssertEqual(net.appliedData(2).count, 4)
    }

    func testProbeSendsOneAppendUntilAnswered() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.drop = { $0.to == 2 && $0.type == .append }
        net.elect(1)
        XCTAssertEqual(net.progress(1, of: 2)?.state, .probe)
        net.clearSent()
        for round in 0..<3 {
            try net.propose(1, "v\(round)")
            net.deliverAll()
        }
        XCTAssertTrue(net.messages(where: { $0.type == .append && $0.to == 2 }).isEmpty,
            "the probe sent at election is unanswered")
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.messages(where: { $0.type == .append && $0.to == 2 }).count, 1,
            "a heartbeat response allows exactly one more probe")
    }

    func testSuccessfulProbeSwitchesToReplicate() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        for id: NodeID in [2, 3] {
            XCTAssertEqual(net.progress(1, of: id)?.state, .replicate)
            XCTAssertEqual(net.progress(1, of: id)?.match, 2)
            XCTAssertEqual(net.progress(1, of: id)?.next, 3)
        }
    }

    func testUnreachableFollowerFallsBackToProbe() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.withNode(1) { $0.reportUnreachable(2) }
        XCTAssertEqual(net.progress(1, of: 2)?.state, .probe)
        XCTAssertEqual(net.progress(1, of: 2)?.next, 3)
    }

    func testRejectionInReplicateFallsBackToProbeFromMatch() {
        var progress = MemberProgress(next: 5, maxInflight: 4, isLearner: false)
        XCTAssertTrue(progress.maybeUpdate(4))
        progress.becomeReplicate()
        progress.sentEntries(upTo: 7)
        progress.sentEntries(upTo: 9)
        XCTAssertFalse(progress.maybeDecrement(rejected: 3, matchHint: 3), "stale: at or below match")
        XCTAssertTrue(progress.maybeDecrement(rejected: 8, matchHint: 5))
        XCTAssertEqual(progress.next, 5)
    }

    func testStaleProbeRejectionIsIgnored() {
        var progress = MemberProgress(next: 10, maxInflight: 4, isLearner: false)
        XCTAssertFalse(progress.maybeDecrement(rejected: 5, matchHint: 2), "we did not probe at 5")
        XCTAssertEqual(progress.next, 10)
        XCTAssertTrue(progress.maybeDecrement(rejected: 9, matchHint: 2))
        XCTAssertEqual(progress.next, 3)
    }

    func testProbeNeverBacksOffBelowMatch() {
        var progress = MemberProgress(next: 10, maxInflight: 4, isLearner: false)
        _ = progress.maybeUpdate(6)
        progress.becomeProbe()
        XCTAssertEqual(progress.next, 7)
        XCTAssertTrue(progress.maybeDecrement(rejected: 6, matchHint: 1))
        XCTAssertEqual(progress.next, 7, "match < next always")
    }

    func testSnapshotStateResumesAfterTheSnapshot() {
        var progress = MemberProgress(next: 3, maxInflight: 4, isLearner: false)
        progress.becomeSnapshot(20)
        XCTAssertTrue(progress.isPaused)
        progress.becomeProbe()
        XCTAssertEqual(progress.next, 21)
    }

    func testInflightsFreeUpToAcknowledgedIndexAcrossTheRingBoundary() {
        var inflights = Inflights(capacity: 3)
        inflights.add(1)
        inflights.add(2)
        inflights.add(3)
        XCTAssertTrue(inflights.isFull)
        inflights.freeLE(2)
        XCTAssertEqual(inflights.count, 1)
        inflights.add(4)
        inflights.add(5)
        XCTAssertTrue(inflights.isFull)
        inflights.freeLE(4)
        XCTAssertEqual(inflights.count, 1)
        inflights.freeLE(100)
        XCTAssertEqual(inflights.count, 0)
    }
}
