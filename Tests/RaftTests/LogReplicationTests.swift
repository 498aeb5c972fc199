import XCTest
@testable import Raft

/// Log replication and the log matching property (§5.3).
final class LogReplicationTests: XCTestCase {
    private static func entries(term: Term, _ indexes: ClosedRange<LogIndex>) -> [Entry] {
        indexes.map { Entry(term: term, index: $0) }
    }

    func testLeaderReplicatesProposalsToEveryFollower() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        for value in ["a", "b", "c"] { try net.propose(1, value) }
        net.deliverAll()
        for id: NodeID in [1, 2, 3] {
            XCTAssertEqual(net.storedEntries(id), net.storedEntries(1), "node \(id)")
            XCTAssertEqual(net.appliedData(id), [[97], [98], [99]], "node \(id)")
        }
    }

    func testFollowerRejectsAppendWhosePreviousEntryDoesNotMatch() {
        let net = TestNetwork(voters: [1, 2, 3], logs: [1: [Entry(term: 2, index: 2)]], term: 3)
        net.inject(Message(type: .append, to: 1, from: 2, term: 3, logTerm: 3, index: 2,
            entries: [Entry(term: 3, index: 3)]))
        let answer = net.processReady(1).first { $0.type == .appendResponse }
        XCTAssertEqual(answer?.reject, true)
        XCTAssertEqual(answer?.index, 2)
        XCTAssertEqual(answer?.rejectHint, 2)
        XCTAssertEqual(answer?.logTerm, 2, "the hint carries the term of our entry there")
        XCTAssertEqual(net.lastIndex(1), 2, "a rejected append must not change the log")
    }

    func testFollowerRejectsAppendBeyondItsLogWithHintAtItsEnd() {
        let net = TestNetwork(voters: [1, 2, 3], term: 3)
        net.inject(Message(type: .append, to: 1, from: 2, term: 3, logTerm: 3, index: 7))
        let answer = net.processReady(1).first { $0.type == .appendResponse }
        XCTAssertEqual(answer?.reject, true)
        XCTAssertEqual(answer?.rejectHint, 1)
    }

    func testFollowerTruncatesConflictingUncommittedEntries() {
        let shared = [Entry(term: 2, index: 2)]
        let net = TestNetwork(
            voters: [1, 2, 3],
            logs: [
                1: shared + [Entry(term: 3, index: 3)],
                2: shared + Self.entries(term: 2, 3...5),
                3: shared + [Entry(term: 3, index: 3)],
            ], term: 3)
        net.elect(1)
        XCTAssertEqual(net.storedEntries(2), net.storedEntries(1))
        XCTAssertEqual(net.storedTerm(2, at: 3), 3)
        XCTAssertEqual(net.lastIndex(2), 4, "the follower's extra entries 4 and 5 of term 2 are gone")
        XCTAssertEqual(net.storedTerm(2, at: 4), net.term(1))
    }

    func testAppendMatchingExistingEntriesKeepsTheFollowersLongerLog() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        // Entries 3 and 4 reach node 2 but stay uncommitted there.
        net.drop = { $0.type == .appendResponse || $0.type == .heartbeatResponse }
        try net.propose(1, "x")
        try net.propose(1, "y")
        net.deliverAll()
        let before = net.storedEntries(2)
        XCTAssertEqual(before.map(\.index), [2, 3, 4])
        XCTAssertEqual(net.committed(2), 2)
        // A delayed duplicate of an earlier append covers only a prefix: nothing may be truncated.
        net.inject(Message(type: .append, to: 2, from: 1, term: net.term(1), logTerm: before[0].term, index: 2,
            entries: [before[1]], commit: 2))
        net.deliverAll()
        XCTAssertEqual(net.storedEntries(2), before)
        XCTAssertEqual(net.messages(where: { $0.type == .appendResponse && $0.from == 2 }).last?.index, 3)
    }

    func testStaleAppendBelowCommitIsAnsweredWithTheCommitIndex() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.propose(1, "x")
        net.deliverAll()
        let committed = net.committed(2)
        net.inject(Message(type: .append, to: 2, from: 1, term: net.term(1), logTerm: 1, index: 1))
        let answer = net.processReady(2).first { $0.type == .appendResponse }
        XCTAssertEqual(answer?.reject, false)
        XCTAssertEqual(answer?.index, committed)
    }

    func testFastBacktrackingSkipsAWholeTermPerRejection() {
        // Node 2 holds 50 entries of term 3 the leader never had; without the reject hint the
        // leader would probe back one index per round trip.
        let shared = [Entry(term: 2, index: 2)]
        let leaderLog = shared + Self.entries(term: 4, 3...12)
        let net = TestNetwork(
            voters: [1, 2, 3],
            logs: [1: leaderLog, 2: shared + Self.entries(term: 3, 3...52), 3: leaderLog], term: 4
        ) { $0.preVote = false }
        net.elect(1)
        let rejections = net.messages(where: { $0.type == .appendResponse && $0.from == 2 && $0.reject })
        XCTAssertEqual(rejections.count, 1)
        XCTAssertEqual(net.storedEntries(2), net.storedEntries(1))
        XCTAssertEqual(net.lastIndex(2), 13)
    }

    func testFastBacktrackingWhenFollowerLogIsShorter() {
        let net = TestNetwork(voters: [1, 2, 3], logs: [1: Self.entries(term: 2, 2...40), 3: Self.entries(term: 2, 2...40)],
            term: 2) { $0.preVote = false }
        net.elect(1)
        let rejections = net.messages(where: { $0.type == .appendResponse && $0.from == 2 && $0.reject })
        XCTAssertEqual(rejections.count, 1, "the hint points straight at the follower's last index")
        XCTAssertEqual(net.storedEntries(2), net.storedEntries(1))
    }

    func testLeaderSplitsEntriesByMaxMessageSize() throws {
        let net = TestNetwork(voters: [1, 2]) { $0.maxSizePerMessageBytes = 60 }
        net.elect(1)
        net.clearSent()
        net.isolate(2)
        for value in ["aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd"] { try net.propose(1, value) }
        net.deliverAll()
        net.heal()
        net.tick(1)
        net.deliverAll()
        let appends = net.messages(where: { $0.type == .append && $0.to == 2 && !$0.entries.isEmpty })
        XCTAssertTrue(appends.allSatisfy { $0.entries.count <= 1 || $0.entries.reduce(0) { $0 + $1.sizeBytes } <= 60 })
        XCTAssertEqual(net.appliedData(2).count, 4)
    }

    func testEntriesAreAppendedWithTheLeadersTermAndConsecutiveIndexes() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        try net.propose(1, "a")
        try net.propose(1, "b")
        net.deliverAll()
        let log = net.storedEntries(3)
        XCTAssertEqual(log.map(\.index), Array(2...4))
        XCTAssertTrue(log.allSatisfy { $0.term == net.term(1) })
    }

    func testLeaderSendsHeartbeatsEveryHeartbeatInterval() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.heartbeatTicks = 3 }
        net.elect(1)
        net.clearSent()
        net.tick(1, times: 2)
        net.deliverAll()
        XCTAssertTrue(net.messages(where: { $0.type == .heartbeat }).isEmpty)
        net.tick(1)
        net.deliverAll()
        XCTAssertEqual(net.messages(where: { $0.type == .heartbeat }).map(\.to).sorted(), [2, 3])
    }

    func testFollowerThatLostEntriesInACrashIsRepairedByTheLeader() throws {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(3)
        try net.propose(1, "a")
        try net.propose(1, "b")
        net.deliverAll()
        net.restart(3)
        net.heal()
        net.tickAll(times: 3)
        XCTAssertEqual(net.storedEntries(3), net.storedEntries(1))
        XCTAssertEqual(net.appliedData(3), [[97], [98]])
    }
}
