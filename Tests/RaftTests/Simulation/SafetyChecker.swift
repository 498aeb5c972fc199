@testable import Raft

/// A violated Raft property, with enough context to start debugging from the replayed seed.
struct SafetyViolation: Error, CustomStringConvertible {
    var property: String
    var detail: String
    var description: String { "\(property) violated: \(detail)" }
}

/// Watches every node's persisted log, commit index and applied state, and checks Raft's
/// safety properties incrementally (each fact is checked when it first appears, which is
/// enough because logs only change by appending or by truncating a suffix).
struct SafetyChecker {
    /// Election safety: at most one leader per term.
    private var leaderByTerm: [Term: NodeID] = [:]
    /// Log matching: an (index, term) pair identifies one entry and one predecessor term.
    private var entryByPosition: [LogPosition: (digest: UInt64, previousTerm: Term)] = [:]
    /// For each committed index (index 0 unused): the entry's term, and the earliest term in
    /// which any node knew it committed — the term it was committed in.
    private(set) var committed: [(entryTerm: Term, commitTerm: Term)] = [(0, 0)]
    /// State-machine safety: the digest of the applied prefix at each index.
    private var appliedDigests: [LogIndex: UInt64] = [:]

    struct LogPosition: Hashable {
        var index: LogIndex
        var term: Term
    }

    var maxCommitted: LogIndex { LogIndex(committed.count - 1) }

    mutating func observeLeader(_ id: NodeID, term: Term) throws(SafetyViolation) {
        if let existing = leaderByTerm[term], existing != id {
            throw SafetyViolation(property: "election safety",
                detail: "nodes \(existing) and \(id) are both leader in term \(term)")
        }
        leaderByTerm[term] = id
    }

    /// Checks entries that `node` just persisted, given the term of the entry before them.
    mutating func observeAppended(_ entries: [Entry], node: NodeID, previousTerm: Term) throws(SafetyViolation) {
        var previousTerm = previousTerm
        for entry in entries {
            let position = LogPosition(index: entry.index, term: entry.term)
            let digest = Digest.of(entry)
            if let known = entryByPosition[position] {
                guard known.digest == digest, known.previousTerm == previousTerm else {
                    throw SafetyViolation(property: "log matching",
                        detail: "node \(node) holds a different entry (or predecessor) at index \(entry.index) term \(entry.term)")
                }
            } else {
                entryByPosition[position] = (digest, previousTerm)
            }
            previousTerm = entry.term
        }
    }

    /// Records that `node`, in `term`, knows entries in `[from, commit]` are committed, with
    /// `termAt` reading its log.
    mutating func observeCommit(from: LogIndex, through commit: LogIndex, node: NodeID, term: Term,
        termAt: (LogIndex) -> Term?) throws(SafetyViolation)
    {
        var index = max(from, 1)
        while index <= commit {
            defer { index += 1 }
            // Compacted indexes were compared when the node (or its snapshot's source) committed them.
            guard let entryTerm = termAt(index) else { continue }
            if index <= maxCommitted {
                let known = committed[Int(index)]
                guard known.entryTerm == entryTerm else {
                    throw SafetyViolation(property: "state machine safety",
                        detail: "node \(node) committed term \(entryTerm) at index \(index), others committed term \(known.entryTerm)")
                }
                committed[Int(index)].commitTerm = min(known.commitTerm, term)
            } else if index == maxCommitted + 1 {
                committed.append((entryTerm, term))
            }
        }
    }

    /// Leader completeness: a new leader of `term` holds every entry committed in an earlier term.
    func checkLeaderCompleteness(leader: NodeID, term: Term, firstIndex: LogIndex, lastIndex: LogIndex,
        termAt: (LogIndex) -> Term?) throws(SafetyViolation)
    {
        var index = max(firstIndex, 1)
        while index <= maxCommitted {
            defer { index += 1 }
            let known = committed[Int(index)]
            guard known.commitTerm < term else { continue }
            guard index <= lastIndex, termAt(index) == known.entryTerm else {
                throw SafetyViolation(property: "leader completeness",
                    detail: "leader \(leader) of term \(term) lacks entry \(index) (term \(known.entryTerm)) committed in term \(known.commitTerm)")
            }
        }
    }

    /// State-machine safety: every node's applied prefix at an index has the same digest.
    mutating func observeApplied(index: LogIndex, digest: UInt64, node: NodeID) throws(SafetyViolation) {
        if let known = appliedDigests[index] {
            guard known == digest else {
                throw SafetyViolation(property: "state machine safety",
                    detail: "node \(node) applied a different history up to index \(index)")
            }
        } else {
            appliedDigests[index] = digest
        }
    }
}
