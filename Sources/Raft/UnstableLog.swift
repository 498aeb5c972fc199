/// The tail of the log not yet persisted by the application: at most one incoming snapshot,
/// then entries starting at `offset`. Invariant: when `snapshot` is set, `offset` is its index + 1.
struct UnstableLog {
    var snapshot: Snapshot?
    var entries: [Entry] = []
    /// The index of `entries[0]`, or of the next entry to arrive when `entries` is empty.
    var offset: LogIndex

    /// The first index, when a snapshot is pending; otherwise storage knows.
    var firstIndex: LogIndex? {
        snapshot.map { $0.metadata.index + 1 }
    }

    var lastIndex: LogIndex? {
        if !entries.isEmpty { return offset + LogIndex(entries.count) - 1 }
        return snapshot?.metadata.index
    }

    func term(at index: LogIndex) -> Term? {
        if index < offset {
            guard let snapshot, snapshot.metadata.index == index else { return nil }
            return snapshot.metadata.term
        }
        guard let last = lastIndex, index <= last else { return nil }
        return entries[Int(index - offset)].term
    }

    /// The application persisted entries up to `index` with `term`. Ignored when the entry was
    /// replaced in the meantime (its term no longer matches).
    mutating func stable(to index: LogIndex, term: Term) {
        guard let current = self.term(at: index), current == term, index >= offset else { return }
        entries.removeFirst(Int(index - offset) + 1)
        offset = index + 1
    }

    mutating func stableSnapshot(to index: LogIndex) {
        if snapshot?.metadata.index == index { snapshot = nil }
    }

    mutating func restore(_ snapshot: Snapshot) {
        offset = snapshot.metadata.index + 1
        entries = []
        self.snapshot = snapshot
    }

    mutating func truncateAndAppend(_ newEntries: [Entry]) {
        guard let after = newEntries.first?.index else { return }
        if after == offset + LogIndex(entries.count) {
            entries.append(contentsOf: newEntries)
        } else if after <= offset {
            // Replaces everything unstable, and possibly part of what storage holds.
            offset = after
            entries = newEntries
        } else {
            entries = Array(entries[..<Int(after - offset)]) + newEntries
        }
    }

    func slice(from low: LogIndex, to high: LogIndex) -> ArraySlice<Entry> {
        precondition(low <= high && low >= offset && high <= offset + LogIndex(entries.count),
            "unstable slice [\(low), \(high)) out of [\(offset), \(offset + LogIndex(entries.count)))")
        return entries[Int(low - offset)..<Int(high - offset)]
    }
}
