/// The kinds of message raft exchanges between nodes, plus the local ones
/// (`hup`, `beat`, `propose`, …) a node feeds to itself through the same step function.
public enum MessageType: UInt8, Sendable, Hashable, CaseIterable {
    /// Local: start an election.
    case hup = 0
    /// Local: the leader should send heartbeats.
    case beat = 1
    /// A proposal, local or forwarded from a follower.
    case propose = 2
    case append = 3
    case appendResponse = 4
    case vote = 5
    case voteResponse = 6
    case snapshot = 7
    case heartbeat = 8
    case heartbeatResponse = 9
    /// Local: the transport could not reach `from`.
    case unreachable = 10
    /// Local: how sending a snapshot to `from` ended (`reject` means it failed).
    case snapshotStatus = 11
    /// Local: the leader checks it still hears from a quorum.
    case checkQuorum = 12
    /// Asks the leader to hand leadership to `from`.
    case transferLeader = 13
    /// Tells the transferee to campaign at once.
    case timeoutNow = 14
    case readIndex = 15
    case readIndexResponse = 16
    case preVote = 17
    case preVoteResponse = 18

    /// Messages that never leave the node that created them.
    public var isLocal: Bool {
        switch self {
        case .hup, .beat, .unreachable, .snapshotStatus, .checkQuorum: true
        default: false
        }
    }

    /// Responses that travel back to the node that asked.
    public var isResponse: Bool {
        switch self {
        case .appendResponse, .voteResponse, .heartbeatResponse, .unreachable, .readIndexResponse,
            .preVoteResponse:
            true
        default: false
        }
    }
}

/// A raft message. Which fields matter depends on ``type``; unused ones stay zero.
public struct Message: Sendable, Hashable {
    public var type: MessageType
    public var to: NodeID
    public var from: NodeID
    public var term: Term
    /// For `append`: the term of the entry before `entries`. For votes: the candidate's last term.
    /// For a rejected `appendResponse`: the term of the follower's entry at `rejectHint`.
    public var logTerm: Term
    /// For `append`: the index before `entries`. For votes: the candidate's last index.
    /// For `appendResponse`: the follower's last matching index, or the rejected index.
    public var index: LogIndex
    public var entries: [Entry]
    public var commit: LogIndex
    public var snapshot: Snapshot?
    public var reject: Bool
    public var rejectHint: LogIndex
    /// Opaque bytes: read-index request ids, or ``Message/transferContext`` on a forced campaign.
    public var context: [UInt8]

    public init(
        type: MessageType, to: NodeID = .none, from: NodeID = .none, term: Term = 0,
        logTerm: Term = 0, index: LogIndex = 0, entries: [Entry] = [], commit: LogIndex = 0,
        snapshot: Snapshot? = nil, reject: Bool = false, rejectHint: LogIndex = 0,
        context: [UInt8] = []
    ) {
        self.type = type
        self.to = to
        self.from = from
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.snapshot = snapshot
        self.reject = reject
        self.rejectHint = rejectHint
        self.context = context
    }

    /// Marks a vote request sent because of a leadership transfer: voters grant it even
    /// while they still believe in a live leader.
    public static let transferContext: [UInt8] = Array("CampaignTransfer".utf8)
}
