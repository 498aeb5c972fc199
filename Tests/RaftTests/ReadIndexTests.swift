import XCTest
@testable import Raft

/// ReadIndex (Raft thesis §6.4): linearizable reads without writing to the log.
final class ReadIndexTests: XCTestCase {
    func testSafeReadIsAnsweredOnlyAfterAHeartbeatQuorum() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.propose(1, "x")
        net.deliverAll()
        net.drop = { $0.type == .heartbeatResponse }
        net.readIndex(1, "r1")
        net.deliverAll()
        XCTAssertTrue(net.readStates[1]!.isEmpty, "no follower confirmed the leadership yet")
        XCTAssertEqual(net.messages(where: { $0.type == .heartbeat && $0.context == Array("r1".utf8) }).count, 2)

        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.readStates[1], [ReadState(index: 3, context: Array("r1".utf8))])
    }

    func testOneAcknowledgementCompletesAQuorumOfThree() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(3)
        net.readIndex(1, "r")
        net.deliverAll()
        XCTAssertEqual(net.readStates[1]!.map(\.index), [2])
    }

    func testReadIsHeldUntilTheLeaderCommitsAnEntryOfItsTerm() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.drop = { $0.type == .append }
        net.elect(1)
        XCTAssertEqual(net.committed(1), 1, "the leader's empty entry is not committed")
        net.readIndex(1, "r")
        net.deliverAll()
        XCTAssertTrue(net.readStates[1]!.isEmpty)
        XCTAssertTrue(net.messages(where: { !$0.context.isEmpty }).isEmpty, "not even a heartbeat round starts")

        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.committed(1), 2)
        XCTAssertEqual(net.readStates[1]!.map(\.index), [2], "the read covers the entry committed in this term")
    }

    func testReadFromFollowerIsForwardedToTheLeader() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.propose(1, "x")
        net.deliverAll()
        net.readIndex(2, "from-2")
        net.deliverAll()
        XCTAssertEqual(net.readStates[2], [ReadState(index: 3, context: Array("from-2".utf8))])
        XCTAssertTrue(net.readStates[1]!.isEmpty, "the answer goes back to the follower that asked")
        XCTAssertEqual(net.messages(where: { $0.type == .readIndex }).first?.to, 1)
    }

    func testFollowerWithoutLeaderDropsRead() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.readIndex(2, "r")
        net.deliverAll()
        XCTAssertTrue(net.sent.isEmpty)
        XCTAssertTrue(net.readStates[2]!.isEmpty)
    }

    func testIsolatedLeaderNeverAnswersASafeRead() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(1)
        net.readIndex(1, "r")
        for _ in 0..<15 {
            net.tick(1)
            net.deliverAll()
        }
        XCTAssertTrue(net.readStates[1]!.isEmpty, "a partitioned leader may have been deposed")
    }

    func testLeaseBasedReadIsAnsweredWithoutARoundTrip() throws {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.readOnlyOption = .leaseBased }
        net.elect(1)
        try net.propose(1, "x")
        net.deliverAll()
        net.isolate(1)
        net.clearSent()
        net.readIndex(1, "r")
        net.deliverAll()
        XCTAssertEqual(net.readStates[1], [ReadState(index: 3, context: Array("r".utf8))])
        XCTAssertTrue(net.sent.isEmpty)
    }

    func testLeaseBasedReadsRequireCheckQuorum() {
        var config = RaftConfig(id: 1, randomSeed: 1)
        config.readOnlyOption = .leaseBased
        config.checkQuorum = false
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertEqual((error as? RaftError)?.code, .invalidConfig)
        }
    }

    func testSingleVoterAnswersReadAtOnce() throws {
        let net = TestNetwork(voters: [1])
        net.elect(1)
        try net.propose(1, "x")
        net.readIndex(1, "r")
        net.deliverAll()
        XCTAssertEqual(net.readStates[1]!.map(\.index), [3])
    }

    func testConcurrentReadsAreAllAnsweredInOrder() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.drop = { $0.type == .heartbeatResponse }
        net.readIndex(1, "a")
        net.readIndex(1, "b")
        net.readIndex(1, "c")
        net.deliverAll()
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.readStates[1]!.map(\.context), ["a", "b", "c"].map { Array($0.utf8) })
    }

    func testForwardedReadIsHeldUntilTheLeaderCommitsInItsTermThenAnswered() {
        let net = TestNetwork(voters: [1, 2, 3])
        // The followers store the leader's empty entry, but the leader never learns it.
        net.drop = { $0.type == .appendResponse }
        net.elect(1)
        XCTAssertEqual(net.committed(1), 1)
        XCTAssertEqual(net.leader(of: 2), 1)
        net.readIndex(2, "r")
        net.deliverAll()
        XCTAssertEqual(net.messages(where: { $0.type == .readIndex }).map(\.to), [1])
        XCTAssertTrue(net.messages(where: { $0.type == .readIndexResponse }).isEmpty)
        net.heal()
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.readStates[2]!.map(\.index), [2])
    }
}
