/// An in-memory ``RaftStorage``, for tests and simulations. `entries[0]` is a dummy entry that
/// carries the index and term of the latest snapshot.
public final class MemoryStorage: RaftStorage {
    public private(set) var hardState = HardState()
    public private(set) var latestSnapshot = Snapshot()
    private var log: [Entry] = [Entry(term: 0, index: 0)]

    public init() {}

    /// A storage that starts with membership `confState`, as if a snapshot at index 1, term 1
    /// had been installed. Every founding member bootstraps this way; a node that joins later
    /// starts empty and receives the leader's snapshot.
    public convenience init(bootstrap confState: ConfState) {
        self.init()
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 1, term: 1, confState: confState))
        try! applySnapshot(snapshot)
        setHardState(HardState(term: 1, vote: .none, commit: 1))
    }

    public func initialState() -> (HardState, ConfState) {
        (hardState, latestSnapshot.metadata.confState)
    }

    public func setHardState(_ state: HardState) {
        hardState = state
    }

    private var offset: LogIndex { log[0].index }

    public func firstIndex() -> LogIndex { offset + 1 }

    public func lastIndex() -> LogIndex { offset + LogIndex(log.count) - 1 }

    public func term(at index: LogIndex) throws(RaftError) -> Term {
        guard index >= offset else {
            throw RaftError(.compacted, "index \(index) is compacted (first index \(firstIndex()))")
        }
        guard index <= lastIndex() else {
            throw RaftError(.unavailable, "index \(index) is past the last index \(lastIndex())")
        }
        return log[Int(index - offset)].term
    }

    public func entries(from low: LogIndex, to high: LogIndex, maxSizeBytes: Int) throws(RaftError) -> [Entry] {
        guard low > offset else {
            throw RaftError(.compacted, "index \(low) is compacted (first index \(firstIndex()))")
        }
        guard high <= lastIndex() + 1 else {
            throw RaftError(.unavailable, "entries up to \(high) requested, last index is \(lastIndex())")
        }
        guard low < high else { return [] }
        let slice = Array(log[Int(low - offset)..<Int(high - offset)])
        return limitSize(slice, maxSizeBytes: maxSizeBytes)
    }

    public func snapshot() -> Snapshot { latestSnapshot }

    /// Replaces the whole log with `snapshot`, as a follower does when the leader sends one.
    public func applySnapshot(_ snapshot: Snapshot) throws(RaftError) {
        guard snapshot.metadata.index > latestSnapshot.metadata.index else {
            throw RaftError(
                .snapshotOutOfDate,
                "snapshot at \(snapshot.metadata.index) is not newer than \(latestSnapshot.metadata.index)")
        }
        latestSnapshot = snapshot
        log = [Entry(term: snapshot.metadata.term, index: snapshot.metadata.index)]
    }

    /// Records a snapshot of the application's state as of `index`, which must be applied.
    /// Compact the log separately with ``compact(upTo:)``.
    @discardableResult
    public func createSnapshot(at index: LogIndex, confState: ConfState, data: [UInt8]) throws(RaftError) -> Snapshot {
        guard index > latestSnapshot.metadata.index else {
            throw RaftError(.snapshotOutOfDate, "snapshot at \(index) is not newer than \(latestSnapshot.metadata.index)")
        }
        precondition(index <= lastIndex(), "snapshot index \(index) is past the last index \(lastIndex())")
        let snapshot = Snapshot(
            metadata: SnapshotMetadata(index: index, term: try term(at: index), confState: confState), data: data)
        latestSnapshot = snapshot
        return snapshot
    }

    /// Drops every entry before `index`; the entry at `index` becomes the new dummy.
    public func compact(upTo index: LogIndex) throws(RaftError) {
        guard index > offset else {
            throw RaftError(.compacted, "index \(index) is already compacted (first index \(firstIndex()))")
        }
        precondition(index <= lastIndex(), "compaction index \(index) is past the last index \(lastIndex())")
        let dropped = Int(index - offset)
        log[0] = Entry(term: log[dropped].term, index: index)
        log.removeSubrange(1...dropped)
    }

    /// Appends entries that follow (or overwrite the tail of) the log; entries already compacted
    /// are skipped.
    public func append(_ newEntries: [Entry]) {
        guard let firstNew = newEntries.first?.index, let lastNew = newEntries.last?.index else { return }
        guard lastNew >= firstIndex() else { return }
        var entries = newEntries[...]
        if firstIndex() > firstNew {
            entries = entries.dropFirst(Int(firstIndex() - firstNew))
        }
        let position = Int(entries.first!.index - offset)
        precondition(position <= log.count, "missing log entries: last index \(lastIndex()), appending at \(entries.first!.index)")
        log.removeSubrange(position...)
        log.append(contentsOf: entries)
    }
}
