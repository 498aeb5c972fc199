import API
import Foundation
import Raft

/// Raft messages on the peer wire (`Protos/cairnpb/peer.proto`), field for field.
extension Cairnpb_RaftMessage {
    init(_ message: Message) {
        self.init()
        type = UInt32(message.type.rawValue)
        to = message.to
        from = message.from
        term = message.term
        logTerm = message.logTerm
        index = message.index
        entries = message.entries.map(Cairnpb_RaftEntry.init)
        commit = message.commit
        if let snapshot = message.snapshot { self.snapshot = Cairnpb_RaftSnapshotMetadata(snapshot.metadata) }
        reject = message.reject
        rejectHint = message.rejectHint
        context = Data(message.context)
    }
}

extension Message {
    /// nil for a message type this version does not know, or a local one (which never
    /// travels: a peer sending it is broken or hostile).
    init?(_ wire: Cairnpb_RaftMessage) {
        guard let type = MessageType(rawValue: UInt8(truncatingIfNeeded: wire.type)), wire.type <= UInt8.max,
            !type.isLocal
        else { return nil }
        var entries: [Entry] = []
        entries.reserveCapacity(wire.entries.count)
        for entry in wire.entries {
            guard let kind = EntryKind(rawValue: UInt8(truncatingIfNeeded: entry.kind)), entry.kind <= UInt8.max else {
                return nil
            }
            entries.append(Entry(term: entry.term, index: entry.index, kind: kind, data: Array(entry.data)))
        }
        self.init(
            type: type, to: wire.to, from: wire.from, term: wire.term, logTerm: wire.logTerm, index: wire.index,
            entries: entries, commit: wire.commit,
            snapshot: wire.hasSnapshot ? Snapshot(metadata: SnapshotMetadata(wire.snapshot)) : nil,
            reject: wire.reject, rejectHint: wire.rejectHint, context: Array(wire.context))
    }
}

extension Cairnpb_RaftEntry {
    init(_ entry: Entry) {
        self.init()
        term = entry.term
        index = entry.index
        kind = UInt32(entry.kind.rawValue)
        data = Data(entry.data)
    }
}

extension Cairnpb_RaftSnapshotMetadata {
    init(_ metadata: SnapshotMetadata) {
        self.init()
        index = metadata.index
        term = metadata.term
        voters = metadata.confState.voters.sorted()
        learners = metadata.confState.learners.sorted()
    }
}

extension SnapshotMetadata {
    init(_ wire: Cairnpb_RaftSnapshotMetadata) {
        self.init(index: wire.index, term: wire.term,
            confState: ConfState(voters: Set(wire.voters), learners: Set(wire.learners)))
    }
}
