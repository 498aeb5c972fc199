/// Parameters of one raft node. Times are in ticks; the caller decides how long a tick is.
public struct RaftConfig: Sendable {
    public var id: NodeID
    /// A follower that hears nothing from a leader for a random time in
    /// `[electionTicks, 2 * electionTicks)` starts an election.
    public var electionTicks: Int = 10
    /// A leader sends heartbeats every `heartbeatTicks`.
    public var heartbeatTicks: Int = 1
    /// The last index the application had applied when it restarted; raft will not hand back
    /// entries at or before it.
    public var applied: LogIndex = 0
    /// Upper bound on the entries in one append message.
    public var maxSizePerMessageBytes: Int = 1 << 20
    /// Upper bound on the committed entries handed out in one ``Ready``.
    public var maxCommittedSizePerReadyBytes: Int = 64 << 20
    /// Append messages in flight to one follower before the leader waits for acknowledgements.
    public var maxInflightMessages: Int = 256
    /// The leader steps down when it has not heard from a quorum within an election timeout,
    /// and followers ignore vote requests while they hear from a leader.
    public var checkQuorum: Bool = true
    /// Run a pre-election first, so a partitioned node cannot disrupt the group on rejoining.
    public var preVote: Bool = true
    public var readOnlyOption: ReadOnlyOption = .safe
    /// Followers drop proposals instead of forwarding them to the leader.
    public var disableProposalForwarding: Bool = false
    /// A leader removed from the membership steps down at once.
    public var stepDownOnRemoval: Bool = true
    /// Seeds the randomized election timeout; tests pass a fixed value for repeatable runs.
    public var randomSeed: UInt64

    public init(id: NodeID, randomSeed: UInt64) {
        self.id = id
        self.randomSeed = randomSeed
    }

    public func validate() throws(RaftError) {
        guard id != .none else { throw RaftError(.invalidConfig, "node id 0 is reserved for \"none\"") }
        guard heartbeatTicks > 0 else { throw RaftError(.invalidConfig, "heartbeat ticks must be positive") }
        guard electionTicks > heartbeatTicks else {
            throw RaftError(.invalidConfig, "election ticks (\(electionTicks)) must exceed heartbeat ticks (\(heartbeatTicks))")
        }
        guard maxInflightMessages > 0 else { throw RaftError(.invalidConfig, "max inflight messages must be positive") }
        guard maxSizePerMessageBytes > 0, maxCommittedSizePerReadyBytes > 0 else {
            throw RaftError(.invalidConfig, "message size limits must be positive")
        }
        guard readOnlyOption != .leaseBased || checkQuorum else {
            throw RaftError(.invalidConfig, "lease-based reads need checkQuorum")
        }
    }
}

/// SplitMix64: a small, fast, seedable generator. Raft owns no entropy of its own; tests that
/// must replay a failure from its seed use it too.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
