import XCTest
@testable import Raft

final class ElectionTests: XCTestCase {
    func testSingleNodeElectsItselfAtOnce() {
        let net = TestNetwork(voters: [1])
        net.elect(1)
        XCTAssertEqual(net.term(1), 2)
        XCTAssertEqual(net.leader(of: 1), 1)
    }

    func testCandidateWithMajorityBecomesLeaderAndOthersFollow() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        for id: NodeID in [2, 3] {
            XCTAssertEqual(net.role(id), .follower)
            XCTAssertEqual(net.leader(of: id), 1)
            XCTAssertEqual(net.term(id), net.term(1))
        }
    }

    func testNewLeaderCommitsAnEmptyEntryOfItsTerm() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        for id: NodeID in [1, 2, 3] {
            XCTAssertEqual(net.committed(id), 2, "node \(id)")
            XCTAssertEqual(net.storedTerm(id, at: 2), net.term(1))
            XCTAssertEqual(net.applied[id]!.last?.data, [])
        }
    }

    func testCandidateWithoutMajorityDoesNotBecomeLeader() {
        let net = TestNetwork(voters: [1, 2, 3, 4, 5]) { $0.preVote = false }
        net.isolate(1)
        net.cut(from: 1, to: 2)
        net.campaign(1)
        net.deliverAll()
        XCTAssertEqual(net.role(1), .candidate)
        XCTAssertEqual(net.term(1), 2)
    }

    func testCandidateLosingMajorityOfVotesReturnsToFollower() {
        // Node 2 and 3 hold an entry node 1 lacks, so they refuse to vote for it (§5.4.1).
        let newer = [Entry(term: 2, index: 2)]
        let net = TestNetwork(voters: [1, 2, 3], logs: [2: newer, 3: newer], term: 2) { $0.preVote = false }
        net.campaign(1)
        net.deliverAll()
        XCTAssertEqual(net.role(1), .follower)
        XCTAssertEqual(net.term(1), 3)
        XCTAssertEqual(net.leader(of: 1), .none)
    }

    func testFollowerCampaignsAfterElectionTimeout() {
        let net = TestNetwork(voters: [1, 2, 3])
        // The randomized timeout lies in [electionTicks, 2 * electionTicks).
        net.tick(1, times: 9)
        XCTAssertTrue(net.messages(where: { $0.from == 1 }).isEmpty)
        net.tick(1, times: 11)
        net.deliverAll()
        XCTAssertEqual(net.role(1), .leader)
    }

    func testElectionTimeoutIsRandomizedAcrossNodes() {
        var firstCampaignTick: [NodeID: Int] = [:]
        let ids: [NodeID] = Array(1...9)
        let net = TestNetwork(voters: ids)
        for id in ids {
            for tick in 1...20 {
                net.tick(id)
                if net.nodes[id]!.hasReady {
                    firstCampaignTick[id] = tick
                    break
                }
            }
        }
        let ticks = Set(firstCampaignTick.values)
        XCTAssertEqual(firstCampaignTick.count, ids.count, "every node must campaign within 2 * electionTicks")
        XCTAssertTrue(ticks.allSatisfy { (10..<20).contains($0) }, "\(ticks)")
        XCTAssertGreaterThan(ticks.count, 1, "timeouts must differ or nodes split votes forever")
    }

    func testOnlyOneLeaderPerTermWhenTwoCandidatesRunAtOnce() {
        let net = TestNetwork(voters: [1, 2, 3, 4, 5]) { $0.preVote = false }
        net.campaign(1)
        net.campaign(2)
        net.deliverAll()
        let leaders = (1...5).filter { net.role(NodeID($0)) == .leader }
        XCTAssertLessThanOrEqual(leaders.count, 1)
        XCTAssertEqual(net.term(1), net.term(2))
        // Each voter grants at most one vote in the term, so both cannot reach 3.
        let granted = net.messages(where: { $0.type == .voteResponse && !$0.reject })
        XCTAssertEqual(Set(granted.map(\.from)).count, granted.count)
    }

    func testLeaderStepsDownOnHigherTermMessage() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        let term = net.term(1)
        net.inject(Message(type: .append, to: 1, from: 2, term: term + 1, logTerm: 1, index: 1))
        XCTAssertEqual(net.role(1), .follower)
        XCTAssertEqual(net.term(1), term + 1)
        XCTAssertEqual(net.leader(of: 1), 2)
    }

    func testCandidateStepsDownOnAppendFromLeaderOfSameTerm() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.preVote = false }
        net.campaign(1)
        XCTAssertEqual(net.role(1), .candidate)
        let term = net.term(1)
        net.inject(Message(type: .append, to: 1, from: 2, term: term, logTerm: 1, index: 1, commit: 1))
        XCTAssertEqual(net.role(1), .follower)
        XCTAssertEqual(net.term(1), term)
        XCTAssertEqual(net.leader(of: 1), 2)
    }

    func testCandidateStepsDownOnHeartbeatOfHigherTerm() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.preVote = false }
        net.campaign(1)
        let term = net.term(1)
        net.inject(Message(type: .heartbeat, to: 1, from: 3, term: term + 2))
        XCTAssertEqual(net.role(1), .follower)
        XCTAssertEqual(net.term(1), term + 2)
        XCTAssertEqual(net.leader(of: 1), 3)
    }

    func testLeaderIgnoresHupAndKeepsItsTerm() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        let term = net.term(1)
        net.campaign(1)
        net.deliverAll()
        XCTAssertEqual(net.role(1), .leader)
        XCTAssertEqual(net.term(1), term)
    }

    func testNewLeaderIsElectedAfterLeaderFails() {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(1)
        net.tickAll(times: 25, except: [1])
        let newLeader = net.leader(of: 2)
        XCTAssertTrue([2, 3].contains(newLeader), "leader \(newLeader)")
        XCTAssertEqual(net.leader(of: 3), newLeader)
        XCTAssertGreaterThan(net.term(2), net.term(1))
    }

    func testTermAndVoteSurviveRestart() {
        let net = TestNetwork(voters: [1, 2, 3]) { $0.preVote = false }
        net.isolate(1)
        net.campaign(2)
        net.deliverAll()
        let term = net.term(3)
        XCTAssertEqual(net.vote(3), 2)
        net.restart(3)
        XCTAssertEqual(net.term(3), term)
        XCTAssertEqual(net.vote(3), 2)
        // Having voted for 2 in this term, it must not vote for 1 after the restart either.
        net.inject(Message(type: .vote, to: 3, from: 1, term: term, logTerm: 9, index: 9))
        let answer = net.processReady(3).first { $0.type == .voteResponse }
        XCTAssertEqual(answer?.reject, true)
    }
}
