/// The outcome of counting votes (or acknowledgements) among voters.
public enum VoteResult: Sendable, Hashable {
    /// Neither side has a majority yet.
    case pending
    case lost
    case won
}

/// Majority arithmetic over a set of voters. Pure functions, no state.
enum Majority {
    static func quorum(of voterCount: Int) -> Int { voterCount / 2 + 1 }

    /// The largest index that a majority of `voters` has reached; voters with no known match
    /// count as 0. Zero when there are no voters.
    static func committedIndex(voters: Set<NodeID>, match: (NodeID) -> LogIndex?) -> LogIndex {
        guard !voters.isEmpty else { return 0 }
        let sorted = voters.map { match($0) ?? 0 }.sorted()
        // With matches sorted ascending, the entry at n - quorum is held by a quorum of voters.
        return sorted[sorted.count - quorum(of: sorted.count)]
    }

    /// Counts `votes` (true = granted) among `voters`; missing voters are still pending.
    static func result(voters: Set<NodeID>, votes: [NodeID: Bool]) -> VoteResult {
        guard !voters.isEmpty else { return .won }
        var granted = 0
        var missing = 0
        for id in voters {
            switch votes[id] {
            case true: granted += 1
            case false: break
            case nil: missing += 1
            }
        }
        let needed = quorum(of: voters.count)
        if granted >= needed { return .won }
        if granted + missing >= needed { return .pending }
        return .lost
    }
}
