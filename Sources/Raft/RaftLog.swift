/// The log as raft sees it: stable entries in ``RaftStorage`` followed by the unstable tail.
/// Invariant: `applied <= committed <= lastIndex`.
struct RaftLog {
    let storage: any RaftStorage
    var unstable: UnstableLog
    /// The highest index known to be stored on a quorum.
    private(set) var committed: LogIndex
    /// The highest index the application has applied.
    private(set) var applied: LogIndex
    let maxCommittedSizePerReadyBytes: Int

    init(storage: any RaftStorage, maxCommittedSizePerReadyBytes: Int) {
        self.storage = storage
        self.maxCommittedSizePerReadyBytes = maxCommittedSizePerReadyBytes
        let first = storage.firstIndex()
        unstable = UnstableLog(offset: storage.lastIndex() + 1)
        committed = first - 1
        applied = first - 1
    }

    var firstIndex: LogIndex { unstable.firstIndex ?? storage.firstIndex() }

    var lastIndex: LogIndex { unstable.lastIndex ?? storage.lastIndex() }

    var lastTerm: Term { (try? term(at: lastIndex)) ?? 0 }

    /// The term at `index`, for `index` in `[firstIndex - 1, lastIndex]`.
    func term(at index: LogIndex) throws(RaftError) -> Term {
        if let term = unstable.term(at: index) { return term }
        guard index + 1 >= firstIndex else {
            throw RaftError(.compacted, "index \(index) is compacted (first index \(firstIndex))")
        }
        guard index <= lastIndex else {
            throw RaftError(.unavailable, "index \(index) is past the last index \(lastIndex)")
        }
        return try storage.term(at: index)
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool {
        guard let actual = try? self.term(at: index) else { return false }
        return actual == term
    }

    /// Whether a log ending at (`index`, `term`) is at least as up to date as this one (§5.4.1).
    func isUpToDate(index: LogIndex, term: Term) -> Bool {
        term > lastTerm || (term == lastTerm && index >= lastIndex)
    }

    /// Appends what a leader sent after (`index`, `logTerm`) if that entry matches ours, and
    /// returns the last index the leader's entries cover; `nil` when the logs do not match there.
    mutating func maybeAppend(index: LogIndex, logTerm: Term, committed leaderCommit: LogIndex, entries: [Entry]) -> LogIndex? {
        guard matchTerm(index, logTerm) else { return nil }
        let lastNew = index + LogIndex(entries.count)
        let conflict = findConflict(entries)
        if conflict != 0 {
            precondition(conflict > committed, "entry \(conflict) conflicts with committed entry (committed \(committed))")
            append(Array(entries[Int(conflict - (index + 1))...]))
        }
        commit(to: min(leaderCommit, lastNew))
        return lastNew
    }

    /// Appends entries that follow committed ones; returns the new last index.
    @discardableResult
    mutating func append(_ entries: [Entry]) -> LogIndex {
        guard let first = entries.first else { return lastIndex }
        precondition(first.index > committed, "appending at \(first.index) would overwrite committed \(committed)")
        unstable.truncateAndAppend(entries)
        return lastIndex
    }

    /// The index of the first entry whose term differs from ours, or of the first new entry
    /// past our log; zero when every entry is already present.
    func findConflict(_ entries: [Entry]) -> LogIndex {
        for entry in entries where !matchTerm(entry.index, entry.term) {
            return entry.index
        }
        return 0
    }

    /// The largest index ≤ `index` whose term is ≤ `term`, and that term: where a leader whose
    /// entry at `index` has `term` can resume probing (etcd-io/raft's fast log backtracking).
    func findConflictByTerm(index: LogIndex, term: Term) -> (index: LogIndex, term: Term) {
        var index = index
        while true {
            guard let ourTerm = try? self.term(at: index) else { return (index, 0) }
            if ourTerm <= term || index == 0 { return (index, ourTerm) }
            index -= 1
        }
    }

    mutating func commit(to index: LogIndex) {
        guard index > committed else { return }
        precondition(index <= lastIndex, "commit index \(index) is past the last index \(lastIndex)")
        committed = index
    }

    /// Advances the commit index to `index` if it holds an entry of `term`: a leader commits
    /// only entries of its own term by counting replicas (§5.4.2).
    mutating func maybeCommit(index: LogIndex, term: Term) -> Bool {
        guard index > committed, (try? self.term(at: index)) == term else { return false }
        commit(to: index)
        return true
    }

    mutating func applied(to index: LogIndex) {
        guard index != 0 else { return }
        precondition(index <= committed && index >= applied,
            "applied index \(index) outside [\(applied), \(committed)]")
        applied = index
    }

    mutating func restore(_ snapshot: Snapshot) {
        committed = snapshot.metadata.index
        unstable.restore(snapshot)
    }

    var hasNextCommittedEntries: Bool {
        committed + 1 > max(applied + 1, firstIndex)
    }

    /// Committed entries the application has not applied yet, bounded in bytes.
    func nextCommittedEntries() -> [Entry] {
        let low = max(applied + 1, firstIndex)
        guard committed + 1 > low else { return [] }
        do {
            return try slice(from: low, to: committed + 1, maxSizeBytes: maxCommittedSizePerReadyBytes)
        } catch {
            preconditionFailure("committed entries [\(low), \(committed + 1)) unavailable: \(error)")
        }
    }

    /// Entries from `index` to the end of the log, bounded in bytes.
    func entries(from index: LogIndex, maxSizeBytes: Int) throws(RaftError) -> [Entry] {
        guard index <= lastIndex else { return [] }
        return try slice(from: index, to: lastIndex + 1, maxSizeBytes: maxSizeBytes)
    }

    func snapshot() throws(RaftError) -> Snapshot {
        if let snapshot = unstable.snapshot { return snapshot }
        return try storage.snapshot()
    }

    func slice(from low: LogIndex, to high: LogIndex, maxSizeBytes: Int) throws(RaftError) -> [Entry] {
        precondition(low <= high, "invalid slice [\(low), \(high))")
        guard low >= firstIndex else {
            throw RaftError(.compacted, "index \(low) is compacted (first index \(firstIndex))")
        }
        precondition(high <= lastIndex + 1, "slice [\(low), \(high)) past the last index \(lastIndex)")
        guard low < high else { return [] }
        var result: [Entry] = []
        if low < unstable.offset {
            let stableHigh = min(high, unstable.offset)
            result = try storage.entries(from: low, to: stableHigh, maxSizeBytes: maxSizeBytes)
            // Storage stopped early because of the size limit: the unstable part would not fit.
            if LogIndex(result.count) < stableHigh - low { return result }
        }
        if high > unstable.offset {
            result.append(contentsOf: unstable.slice(from: max(low, unstable.offset), to: high))
        }
        return limitSize(result, maxSizeBytes: maxSizeBytes)
    }

    var unstableEntries: [Entry] { unstable.entries }
}
