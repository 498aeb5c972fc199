/// A member's identity in a raft group. Zero is reserved for "nobody" (``NodeID/none``).
public typealias NodeID = UInt64

/// A raft term: a logical clock that increases by one per election.
public typealias Term = UInt64

/// A position in the replicated log. The first real entry has index 1.
public typealias LogIndex = UInt64

extension NodeID {
    /// No node: no leader known, no vote cast.
    public static let none: NodeID = 0
}

/// What an entry carries: application data, or a membership change the application must
/// hand back through ``RaftNode/applyConfChange(_:)`` once it is committed.
public enum EntryKind: UInt8, Sendable, Hashable {
    case normal = 0
    case confChange = 1
}

/// One record of the replicated log.
public struct Entry: Sendable, Hashable {
    public var term: Term
    public var index: LogIndex
    public var kind: EntryKind
    public var data: [UInt8]

    public init(term: Term, index: LogIndex, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// The size counted against ``RaftConfig/maxSizePerMessageBytes``.
    var sizeBytes: Int { data.count + 24 }
}

/// The state a node must persist before it sends any message that depends on it.
public struct HardState: Sendable, Hashable {
    public var term: Term
    public var vote: NodeID
    public var commit: LogIndex

    public init(term: Term = 0, vote: NodeID = .none, commit: LogIndex = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    public var isEmpty: Bool { self == HardState() }
}

/// The role a node plays in its current term.
public enum RaftRole: Sendable, Hashable, CustomStringConvertible {
    case follower
    case preCandidate
    case candidate
    case leader

    public var description: String {
        switch self {
        case .follower: "follower"
        case .preCandidate: "pre-candidate"
        case .candidate: "candidate"
        case .leader: "leader"
        }
    }
}

/// Volatile state that is useful to observe but never persisted.
public struct SoftState: Sendable, Hashable {
    public var leader: NodeID
    public var role: RaftRole

    public init(leader: NodeID, role: RaftRole) {
        self.leader = leader
        self.role = role
    }
}

/// The membership of a group: who votes, and who only receives the log.
public struct ConfState: Sendable, Hashable {
    public var voters: Set<NodeID>
    public var learners: Set<NodeID>

    public init(voters: Set<NodeID> = [], learners: Set<NodeID> = []) {
        self.voters = voters
        self.learners = learners
    }

    public var isEmpty: Bool { voters.isEmpty && learners.isEmpty }
}

/// Where a snapshot sits in the log and what membership it carries.
public struct SnapshotMetadata: Sendable, Hashable {
    public var index: LogIndex
    public var term: Term
    public var confState: ConfState

    public init(index: LogIndex = 0, term: Term = 0, confState: ConfState = ConfState()) {
        self.index = index
        self.term = term
        self.confState = confState
    }
}

/// The application's state as of ``SnapshotMetadata/index``; raft treats `data` as opaque.
public struct Snapshot: Sendable, Hashable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata = SnapshotMetadata(), data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }

    public var isEmpty: Bool { metadata.index == 0 }
}

/// The answer to a ``RaftNode/readIndex(context:)`` request: once the application has applied
/// up to `index`, a read tagged with `context` is linearizable.
public struct ReadState: Sendable, Hashable {
    public var index: LogIndex
    public var context: [UInt8]

    public init(index: LogIndex, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}
