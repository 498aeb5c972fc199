/// The application's handle on one raft node (etcd-io/raft's `RawNode`): feed it ticks,
/// messages and requests; collect a ``Ready`` when ``hasReady`` says so; process it; call
/// ``advance(_:)``. A value type with no threads: the owner serialises every call.
public struct RaftNode {
    private var raft: Raft
    private var previousSoftState: SoftState
    private var previousHardState: HardState

    /// Starts a node from what `storage` holds. Founding members bootstrap their storage with
    /// the initial membership (see ``MemoryStorage/init(bootstrap:)``); joining members start
    /// empty and learn everything from the leader.
    public init(config: RaftConfig, storage: any RaftStorage) throws(RaftError) {
        raft = try Raft(config: config, storage: storage)
        previousSoftState = raft.softState
        previousHardState = raft.hardState
    }

    public var id: NodeID { raft.id }

    /// Advances the logical clock by one tick: drives elections and heartbeats.
    public mutating func tick() {
        raft.tick()
    }

    /// Starts an election now (subject to pre-vote) instead of waiting for the timeout.
    public mutating func campaign() throws(RaftError) {
        try raft.step(Message(type: .hup))
    }

    /// Proposes application data for the log. Throws `proposalDropped` when no leader is known,
    /// a transfer is in flight, or forwarding is disabled; acceptance is not commitment — watch
    /// `committedEntries` for it.
    public mutating func propose(_ data: [UInt8]) throws(RaftError) {
        try raft.step(Message(type: .propose, from: raft.id, entries: [Entry(term: 0, index: 0, data: data)]))
    }

    /// Proposes a membership change. Only one may be pending at a time.
    public mutating func proposeConfChange(_ change: ConfChange) throws(RaftError) {
        try raft.step(Message(type: .propose, from: raft.id,
            entries: [Entry(term: 0, index: 0, kind: .confChange, data: change.encoded)]))
    }

    /// Delivers a message from another node. Local message types are refused.
    public mutating func step(_ message: Message) throws(RaftError) {
        guard !message.type.isLocal else {
            throw RaftError(.invalidMessage, "\(message.type) is local and cannot arrive from the network")
        }
        guard message.from != raft.id || message.type == .propose || message.type == .readIndex else {
            throw RaftError(.invalidMessage, "\(message.type) from this node itself")
        }
        try raft.step(message)
    }

    /// Asks for a linearizable read point. The answer arrives as a ``ReadState`` carrying
    /// `context` in a later ``Ready``; it may never arrive if leadership changes, so callers
    /// retry with a timeout.
    public mutating func readIndex(context: [UInt8]) {
        try? raft.step(Message(type: .readIndex, context: context))
    }

    /// Asks the leader to hand leadership to `transferee` once its log is up to date.
    public mutating func transferLeadership(to transferee: NodeID) {
        try? raft.step(Message(type: .transferLeader, from: transferee))
    }

    /// Applies a committed membership change and returns the resulting membership, which the
    /// application stores with its next snapshot.
    public mutating func applyConfChange(_ change: ConfChange) -> ConfState {
        raft.applyConfChange(change)
    }

    /// The transport could not deliver to `id`: the leader stops streaming to it.
    public mutating func reportUnreachable(_ id: NodeID) {
        try? raft.step(Message(type: .unreachable, from: id))
    }

    /// How sending a snapshot to `id` ended.
    public mutating func reportSnapshot(to id: NodeID, succeeded: Bool) {
        try? raft.step(Message(type: .snapshotStatus, from: id, reject: !succeeded))
    }

    public var hasReady: Bool {
        if raft.softState != previousSoftState { return true }
        let hardState = raft.hardState
        if !hardState.isEmpty && hardState != previousHardState { return true }
        return raft.log.unstable.snapshot != nil || !raft.messages.isEmpty || !raft.log.unstableEntries.isEmpty
            || raft.log.hasNextCommittedEntries || !raft.readStates.isEmpty
    }

    /// Collects the work accumulated since the last call. Call ``advance(_:)`` after processing
    /// it and before the next `ready()`.
    public mutating func ready() -> Ready {
        let softState = raft.softState
        let hardState = raft.hardState
        let entries = raft.log.unstableEntries
        let ready = Ready(
            softState: softState != previousSoftState ? softState : nil,
            hardState: hardState != previousHardState ? hardState : nil,
            readStates: raft.readStates,
            entries: entries,
            snapshot: raft.log.unstable.snapshot,
            committedEntries: raft.log.nextCommittedEntries(),
            messages: raft.messages,
            mustSync: !entries.isEmpty || hardState.term != previousHardState.term
                || hardState.vote != previousHardState.vote)
        previousSoftState = softState
        raft.messages = []
        raft.readStates = []
        return ready
    }

    /// Acknowledges that `ready` was processed: its entries are stable and its committed
    /// entries applied.
    public mutating func advance(_ ready: Ready) {
        if let hardState = ready.hardState {
            previousHardState = hardState
        }
        if let snapshot = ready.snapshot {
            raft.log.unstable.stableSnapshot(to: snapshot.metadata.index)
            // Installing the snapshot applied everything it covers.
            raft.applied(to: snapshot.metadata.index)
        }
        if let last = ready.committedEntries.last {
            raft.applied(to: last.index)
        }
        if let last = ready.entries.last {
            raft.log.unstable.stable(to: last.index, term: last.term)
        }
    }

    public var status: RaftStatus {
        RaftStatus(
            id: raft.id, hardState: raft.hardState, softState: raft.softState, applied: raft.log.applied,
            lastIndex: raft.log.lastIndex, leadTransferee: raft.leadTransferee, confState: raft.tracker.confState,
            progress: raft.role == .leader ? raft.tracker.progress : [:])
    }
}
