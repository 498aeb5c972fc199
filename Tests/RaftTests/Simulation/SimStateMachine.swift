@testable import Raft

/// The application state each simulated node applies entries to: a rolling digest of every
/// applied entry plus the membership. Two nodes that applied the same entries in the same order
/// have the same digest, so comparing digests at an index checks state-machine safety.
struct SimStateMachine: Equatable {
    var appliedIndex: LogIndex = 0
    var digest: UInt64 = 0
    var confState = ConfState()
    /// Members removed so far; their messages are refused, as etcd's transport does.
    var removed: Set<NodeID> = []
    /// Payloads of normal entries applied, for the liveness check.
    var appliedPayloads: Set<[UInt8]> = []

    mutating func apply(_ entry: Entry) {
        precondition(entry.index == appliedIndex + 1)
        appliedIndex = entry.index
        digest = Digest.fnv(Digest.of(entry), seed: digest)
        if entry.kind == .normal && !entry.data.isEmpty { appliedPayloads.insert(entry.data) }
    }

    /// Serialised into raft snapshots: index, digest, members, removed ids, payloads.
    var encoded: [UInt8] {
        var words: [UInt64] = [appliedIndex, digest]
        for set in [confState.voters, confState.learners, removed] {
            words.append(UInt64(set.count))
            words.append(contentsOf: set.sorted())
        }
        var bytes: [UInt8] = []
        for word in words { withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) } }
        for payload in appliedPayloads.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            bytes.append(UInt8(payload.count))
            bytes.append(contentsOf: payload)
        }
        return bytes
    }

    init() {}

    init(decoding bytes: [UInt8]) {
        var position = 0
        func word() -> UInt64 {
            var value: UInt64 = 0
            for shift in 0..<8 { value |= UInt64(bytes[position + shift]) << (8 * UInt64(shift)) }
            position += 8
            return value
        }
        appliedIndex = word()
        digest = word()
        var sets: [Set<NodeID>] = []
        for _ in 0..<3 {
            let count = Int(word())
            sets.append(Set((0..<count).map { _ in word() }))
        }
        confState = ConfState(voters: sets[0], learners: sets[1])
        removed = sets[2]
        while position < bytes.count {
            let length = Int(bytes[position])
            appliedPayloads.insert(Array(bytes[(position + 1)..<(position + 1 + length)]))
            position += 1 + length
        }
    }
}

extension SimStateMachine {
    /// The state a snapshot carries; the bootstrap snapshot has no data, only membership.
    init(snapshot: Snapshot) {
        if snapshot.data.isEmpty {
            self.init()
            appliedIndex = snapshot.metadata.index
            confState = snapshot.metadata.confState
        } else {
            self.init(decoding: snapshot.data)
            precondition(appliedIndex == snapshot.metadata.index, "snapshot data and metadata disagree")
        }
    }
}
