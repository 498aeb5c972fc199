/// The leader's bookkeeping for the whole group: membership, each member's ``Progress``, and
/// the votes of the current election. Invariant: `progress` has exactly one entry per voter
/// and learner, and no node is both.
struct ProgressTracker {
    private(set) var voters: Set<NodeID> = []
    private(set) var learners: Set<NodeID> = []
    var progress: [NodeID: Progress] = [:]
    private(set) var votes: [NodeID: Bool] = [:]
    let maxInflight: Int

    init(maxInflight: Int) {
        self.maxInflight = maxInflight
    }

    var confState: ConfState { ConfState(voters: voters, learners: learners) }

    /// Member ids in ascending order, so every node iterates them the same way.
    var sortedIDs: [NodeID] { progress.keys.sorted() }
    var sortedVoterIDs: [NodeID] { voters.sorted() }

    var isSingleton: Bool { voters.count == 1 }

    /// Replaces the membership, giving every member a fresh progress that starts probing at `next`.
    mutating func reset(to confState: ConfState, next: LogIndex) {
        precondition(confState.voters.isDisjoint(with: confState.learners), "a node cannot be voter and learner")
        voters = confState.voters
        learners = confState.learners
        progress = [:]
        for id in voters { progress[id] = Progress(next: next, maxInflight: maxInflight, isLearner: false) }
        for id in learners { progress[id] = Progress(next: next, maxInflight: maxInflight, isLearner: true) }
    }

    mutating func addVoter(_ id: NodeID, next: LogIndex) {
        if learners.remove(id) != nil {
            progress[id]?.isLearner = false
        } else if progress[id] == nil {
            var fresh = Progress(next: next, maxInflight: maxInflight, isLearner: false)
            // A new member gets a full election timeout before CheckQuorum counts it absent.
            fresh.recentActive = true
            progress[id] = fresh
        }
        voters.insert(id)
    }

    mutating func addLearner(_ id: NodeID, next: LogIndex) {
        guard progress[id] == nil else { return }
        var fresh = Progress(next: next, maxInflight: maxInflight, isLearner: true)
        fresh.recentActive = true
        progress[id] = fresh
        learners.insert(id)
    }

    mutating func remove(_ id: NodeID) {
        voters.remove(id)
        learners.remove(id)
        progress[id] = nil
    }

    /// The largest index replicated on a quorum of voters.
    func committedIndex() -> LogIndex {
        Majority.committedIndex(voters: voters) { progress[$0]?.match }
    }

    mutating func resetVotes() {
        votes = [:]
    }

    /// Records a voter's first answer in this election; later answers from it are ignored.
    mutating func recordVote(_ id: NodeID, granted: Bool) {
        if votes[id] == nil { votes[id] = granted }
    }

    func tallyVotes() -> VoteResult {
        Majority.result(voters: voters, votes: votes)
    }

    /// Whether a quorum of voters was heard from recently, and clears the marks for the next
    /// round (the caller's own mark stays set).
    mutating func checkQuorumActive(selfID: NodeID) -> Bool {
        var active: [NodeID: Bool] = [:]
        for id in voters {
            active[id] = id == selfID || (progress[id]?.recentActive ?? false)
        }
        for id in progress.keys where id != selfID { progress[id]!.recentActive = false }
        return Majority.result(voters: voters, votes: active) == .won
    }
}
