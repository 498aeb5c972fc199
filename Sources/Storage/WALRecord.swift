import Raft

/// What the write-ahead log holds: raft entries, hard states and snapshot markers, written
/// in the order raft's `Ready` asks (a marker, then entries, then the hard state).
public enum WALRecord: Sendable, Hashable {
    case entry(Entry)
    case hardState(HardState)
    /// A snapshot covering the log up to its index has been saved; entries at or below it
    /// are no longer needed, and segments holding only them can be released.
    case snapshot(SnapshotMetadata)

    /// The frame type byte. 4 is the seal that closes a full segment (see ``WALSegment``).
    var type: UInt8 {
        switch self {
        case .entry: 1
        case .hardState: 2
        case .snapshot: 3
        }
    }

    var payload: [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .entry(let entry):
            writer.write(entry.term)
            writer.write(entry.index)
            writer.write(entry.kind.rawValue)
            writer.writeRaw(entry.data)
        case .hardState(let state):
            writer.write(state.term)
            writer.write(state.vote)
            writer.write(state.commit)
        case .snapshot(let metadata):
            writer.write(metadata.index)
            writer.write(metadata.term)
            for ids in [metadata.confState.voters, metadata.confState.learners] {
                writer.write(UInt32(ids.count))
                ids.sorted().forEach { writer.write($0) }
            }
        }
        return writer.bytes
    }

    /// `nil` when `payload` is not a well-formed record of `type`.
    init?(type: UInt8, payload: UnsafeRawBufferPointer) {
        var reader = ByteReader(payload)
        switch type {
        case 1:
            guard let term = reader.readUInt64(), let index = reader.readUInt64(),
                let kind = reader.readUInt8().flatMap(EntryKind.init(rawValue:)),
                let data = reader.readRaw(reader.remaining)
            else { return nil }
            self = .entry(Entry(term: term, index: index, kind: kind, data: data))
        case 2:
            guard let term = reader.readUInt64(), let vote = reader.readUInt64(), let commit = reader.readUInt64(),
                reader.isAtEnd
            else { return nil }
            self = .hardState(HardState(term: term, vote: vote, commit: commit))
        case 3:
            guard let index = reader.readUInt64(), let term = reader.readUInt64() else { return nil }
            var sets: [Set<NodeID>] = []
            for _ in 0..<2 {
                guard let count = reader.readUInt32(), Int(count) * 8 <= reader.remaining else { return nil }
                var ids = Set<NodeID>()
                for _ in 0..<count {
                    guard let id = reader.readUInt64() else { return nil }
                    ids.insert(id)
                }
                sets.append(ids)
            }
            guard reader.isAtEnd else { return nil }
            self = .snapshot(SnapshotMetadata(index: index, term: term, confState: ConfState(voters: sets[0], learners: sets[1])))
        default:
            return nil
        }
    }
}
