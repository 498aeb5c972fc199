/// Everything a node needs the application to do, handed out by ``RaftNode/ready()``.
///
/// Process it in this order, then call ``RaftNode/advance(_:)``:
/// 1. persist `snapshot` (if any), `entries` and `hardState` (if any) — durably when `mustSync`;
/// 2. send `messages` (never before step 1: a vote or an acknowledgement must survive a crash);
/// 3. install `snapshot` into the state machine, then apply `committedEntries` in order,
///    handing each `.confChange` entry to ``RaftNode/applyConfChange(_:)``;
/// 4. serve the reads in `readStates` once the applied index reaches theirs.
public struct Ready: Sendable {
    /// The leader or role changed; nil otherwise. Never persisted.
    public var softState: SoftState?
    /// The term, vote or commit index changed; nil otherwise.
    public var hardState: HardState?
    public var readStates: [ReadState]
    /// Entries to append to stable storage.
    public var entries: [Entry]
    /// A snapshot received from the leader, to persist and install.
    public var snapshot: Snapshot?
    /// Entries committed by the group and not yet applied here.
    public var committedEntries: [Entry]
    /// Messages to send once the state above is persisted.
    public var messages: [Message]

    /// Whether the entries or hard state must reach disk before the messages are sent.
    public var mustSync: Bool

    public var isEmpty: Bool {
        softState == nil && hardState == nil && readStates.isEmpty && entries.isEmpty && snapshot == nil
            && committedEntries.isEmpty && messages.isEmpty
    }
}

/// A snapshot of a node's state for observers (metrics, `endpoint status`, tests).
public struct RaftStatus: Sendable {
    public var id: NodeID
    public var hardState: HardState
    public var softState: SoftState
    public var applied: LogIndex
    public var lastIndex: LogIndex
    public var leadTransferee: NodeID
    public var confState: ConfState
    /// Each member's replication progress; only on the leader.
    public var progress: [NodeID: Progress]
}
