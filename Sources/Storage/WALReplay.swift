import Raft

/// What a WAL held when it was opened: the state raft restarts from.
public struct WALReplay: Sendable, Hashable {
    /// A frame cut short by a crash at the end of the last segment, and discarded.
    public struct TornTail: Sendable, Hashable {
        public var segmentPath: String
        public var offset: Int
        public var discardedBytes: Int
    }

    /// The bytes given as ``WALOptions/metadata`` when the WAL was created.
    public var metadata: [UInt8]
    /// The latest hard state (empty if none was ever saved).
    public var hardState = HardState()
    /// The latest snapshot marker (index 0 if none).
    public var snapshot = SnapshotMetadata()
    /// The entries after the snapshot, contiguous from `snapshot.index + 1`.
    public var entries: [Entry] = []
    /// Set when open repaired a torn tail; the server should log it.
    public var tornTail: TornTail?

    init(metadata: [UInt8]) {
        self.metadata = metadata
    }

    /// The index of the last entry (the snapshot's when there are none).
    public var lastIndex: LogIndex { entries.last?.index ?? snapshot.index }

    /// Folds in one record, read at `offset` of `segmentPath`. A later entry replaces every
    /// entry at or after its index, as raft's log does when a leader overwrites a tail.
    mutating func apply(_ record: WALRecord, segmentPath: String, offset: Int) throws(StorageError) {
        switch record {
        case .hardState(let state):
            hardState = state
        case .snapshot(let metadata):
            snapshot = metadata
            entries.removeAll { $0.index <= metadata.index }
        case .entry(let entry):
            guard entry.index > snapshot.index else { return }
            if let first = entries.first, entry.index <= entries.last!.index {
                entries.removeSubrange(Int(max(entry.index, first.index) - first.index)...)
            }
            // The first entry may follow on from a released segment; ``finish(directory:)``
            // checks that it lines up with the snapshot.
            let expected = entries.isEmpty ? entry.index : lastIndex + 1
            guard entry.index == expected else {
                throw StorageError(
                    .walCorrupt,
                    "WAL segment \(segmentPath) is corrupt at offset \(offset): entry \(entry.index) follows entry \(expected - 1); entries are missing")
            }
            entries.append(entry)
        }
    }

    /// Checks that the entries start right after the snapshot, once every segment is read.
    func finish(directory: String) throws(StorageError) {
        guard let first = entries.first, first.index != snapshot.index + 1 else { return }
        throw StorageError(
            .walCorrupt,
            "the WAL in \(directory) continues at entry \(first.index) after a snapshot at \(snapshot.index): entries are missing")
    }
}
