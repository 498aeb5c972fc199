/// Where the raft core reads the stable part of its log. The application writes to its own
/// implementation (appending the entries, hard state and snapshots of each ``Ready``); raft
/// only reads. Indices follow etcd-io/raft: the entry at `firstIndex() - 1` is compacted but its
/// term stays readable, so appends can still be matched against it.
public protocol RaftStorage: AnyObject {
    /// The persisted hard state and membership, read once when a node starts.
    func initialState() throws(RaftError) -> (HardState, ConfState)
    /// Entries in `[low, high)`, at least one when the range is not empty, then as many as fit
    /// in `maxSizeBytes`.
    func entries(from low: LogIndex, to high: LogIndex, maxSizeBytes: Int) throws(RaftError) -> [Entry]
    /// The term of the entry at `index`, for `index` in `[firstIndex() - 1, lastIndex()]`.
    func term(at index: LogIndex) throws(RaftError) -> Term
    /// The index of the first entry still available (the snapshot's index + 1).
    func firstIndex() -> LogIndex
    /// The index of the last entry (the snapshot's index when the log is empty).
    func lastIndex() -> LogIndex
    /// The most recent snapshot, to send to a follower that is behind the compacted log.
    func snapshot() throws(RaftError) -> Snapshot
}

/// Keeps entries within a byte budget, but always at least one so progress is never blocked.
func limitSize(_ entries: [Entry], maxSizeBytes: Int) -> [Entry] {
    guard entries.count > 1 else { return entries }
    var sizeBytes = entries[0].sizeBytes
    var count = 1
    while count < entries.count {
        sizeBytes += entries[count].sizeBytes
        if sizeBytes > maxSizeBytes { break }
        count += 1
    }
    return count == entries.count ? entries : Array(entries[..<count])
}
