import XCTest
@testable import Raft

/// The contract between a node and its application: what each Ready carries, and when.
final class ReadyTests: XCTestCase {
    private func node(_ id: NodeID = 1, voters: Set<NodeID> = [1, 2, 3]) throws -> (RaftNode, MemoryStorage) {
        let storage = MemoryStorage(bootstrap: ConfState(voters: voters))
        return (try RaftNode(config: RaftConfig(id: id, randomSeed: 3), storage: storage), storage)
    }

    func testFreshNodeHasNothingToDo() throws {
        let (node, _) = try node()
        XCTAssertFalse(node.hasReady)
    }

    func testReadyThatGrantsAVoteAlsoCarriesTheVoteToPersist() throws {
        var (node, _) = try node()
        try node.step(Message(type: .vote, to: 1, from: 2, term: 2, logTerm: 1, index: 1))
        let ready = node.ready()
        XCTAssertEqual(ready.messages.first { $0.type == .voteResponse }?.reject, false)
        XCTAssertEqual(ready.hardState, HardState(term: 2, vote: 2, commit: 1))
        XCTAssertTrue(ready.mustSync, "the vote must be durable before the grant leaves")
    }

    func testCampaignReportsRoleChangeOnceAndPersistsTheSelfVote() throws {
        var (node, storage) = try node()
        var config = RaftConfig(id: 1, randomSeed: 3)
        config.preVote = false
        node = try RaftNode(config: config, storage: storage)
        try node.campaign()
        var ready = node.ready()
        XCTAssertEqual(ready.softState, SoftState(leader: .none, role: .candidate))
        XCTAssertEqual(ready.hardState?.vote, 1)
        XCTAssertEqual(ready.messages.filter { $0.type == .vote }.map(\.to).sorted(), [2, 3])
        node.advance(ready)
        XCTAssertFalse(node.hasReady)
        try node.step(Message(type: .voteResponse, to: 1, from: 2, term: 2))
        ready = node.ready()
        XCTAssertEqual(ready.softState?.role, .leader)
        XCTAssertEqual(ready.entries.map(\.index), [2], "the new leader's empty entry must be persisted")
    }

    func testEntriesAreHandedOutForPersistenceOnlyOnce() throws {
        var (node, storage) = try node(voters: [1])
        try node.campaign()
        var ready = node.ready()
        storage.append(ready.entries)
        node.advance(ready)
        try node.propose([1])
        ready = node.ready()
        XCTAssertEqual(ready.entries.map(\.index), [3])
        storage.append(ready.entries)
        node.advance(ready)
        XCTAssertTrue(node.ready().entries.isEmpty)
    }

    func testSingleVoterCommitsAndAppliesItsOwnProposal() throws {
        var (node, storage) = try node(voters: [1])
        try node.campaign()
        var applied: [LogIndex] = []
        try node.propose(Array("x".utf8))
        while node.hasReady {
            let ready = node.ready()
            storage.append(ready.entries)
            if let hardState = ready.hardState { storage.setHardState(hardState) }
            applied += ready.committedEntries.map(\.index)
            node.advance(ready)
        }
        XCTAssertEqual(applied, [2, 3])
        XCTAssertEqual(node.status.applied, 3)
    }

    func testRestartWithAppliedIndexDoesNotHandOutAppliedEntriesAgain() throws {
        let storage = MemoryStorage(bootstrap: ConfState(voters: [1]))
        storage.append([Entry(term: 1, index: 2), Entry(term: 1, index: 3), Entry(term: 1, index: 4)])
        storage.setHardState(HardState(term: 1, vote: .none, commit: 4))
        var config = RaftConfig(id: 1, randomSeed: 3)
        config.applied = 3
        var node = try RaftNode(config: config, storage: storage)
        XCTAssertEqual(node.ready().committedEntries.map(\.index), [4])
    }

    func testPersistedCommitBeyondTheLogIsRejected() {
        let storage = MemoryStorage(bootstrap: ConfState(voters: [1]))
        storage.setHardState(HardState(term: 1, vote: .none, commit: 5))
        XCTAssertThrowsError(try RaftNode(config: RaftConfig(id: 1, randomSeed: 3), storage: storage)) {
            XCTAssertEqual(($0 as? RaftError)?.code, .invalidConfig)
        }
    }

    func testInvalidConfigIsRejected() {
        var config = RaftConfig(id: 1, randomSeed: 3)
        config.electionTicks = 1
        XCTAssertThrowsError(try RaftNode(config: config, storage: MemoryStorage()))
        XCTAssertThrowsError(try RaftNode(config: RaftConfig(id: .none, randomSeed: 3), storage: MemoryStorage()))
    }
}
