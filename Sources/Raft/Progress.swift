/// How the leader is replicating to one follower.
public enum ProgressState: Sendable, Hashable, CustomStringConvertible {
    /// One append at a time until the leader finds where the logs match.
    case probe
    /// Streaming appends optimistically, up to the inflight window.
    case replicate
    /// A snapshot is on its way; nothing else is sent until it is acknowledged or fails.
    case snapshot

    public var description: String {
        switch self {
        case .probe: "probe"
        case .replicate: "replicate"
        case .snapshot: "snapshot"
        }
    }
}

/// The leader's view of one follower. Invariant: `match < next`.
public struct Progress: Sendable, Hashable {
    /// The highest index known to match the leader's log.
    public internal(set) var match: LogIndex
    /// The next index to send.
    public internal(set) var next: LogIndex
    public internal(set) var state: ProgressState = .probe
    /// In `.snapshot`: the index of the snapshot being sent.
    public internal(set) var pendingSnapshot: LogIndex = 0
    /// Heard from within the last election timeout (reset by CheckQuorum).
    public internal(set) var recentActive: Bool = false
    /// In `.probe`: a probe is out, wait for its answer or the next heartbeat response.
    var msgAppFlowPaused = false
    var inflights: Inflights
    public internal(set) var isLearner: Bool

    init(next: LogIndex, maxInflight: Int, isLearner: Bool) {
        match = 0
        self.next = next
        inflights = Inflights(capacity: maxInflight)
        self.isLearner = isLearner
    }

    private mutating func resetState(_ newState: ProgressState) {
        msgAppFlowPaused = false
        pendingSnapshot = 0
        state = newState
        inflights.reset()
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            // The snapshot may have landed: resume after it rather than after `match`.
            let snapshotIndex = pendingSnapshot
            resetState(.probe)
            next = max(match + 1, snapshotIndex + 1)
        } else {
            resetState(.probe)
            next = match + 1
        }
    }

    mutating func becomeReplicate() {
        resetState(.replicate)
        next = match + 1
    }

    mutating func becomeSnapshot(_ snapshotIndex: LogIndex) {
        resetState(.snapshot)
        pendingSnapshot = snapshotIndex
    }

    /// Records an acknowledgement up to `index`; returns whether `match` moved.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            msgAppFlowPaused = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Records that entries up to `lastIndex` were just sent.
    mutating func sentEntries(upTo lastIndex: LogIndex) {
        switch state {
        case .replicate:
            next = lastIndex + 1
            inflights.add(lastIndex)
        case .probe:
            msgAppFlowPaused = true
        case .snapshot:
            preconditionFailure("sending entries to a follower that is receiving a snapshot")
        }
    }

    /// The follower rejected an append at `rejected`; `matchHint` is where its log may match.
    /// Returns false when the rejection is stale (an answer to an earlier probe).
    mutating func maybeDecrement(rejected: LogIndex, matchHint: LogIndex) -> Bool {
        if state == .replicate {
            guard rejected > match else { return false }
            next = match + 1
            return true
        }
        guard next - 1 == rejected else { return false }
        next = max(min(rejected, matchHint + 1), match + 1)
        msgAppFlowPaused = false
        return true
    }

    /// Whether sending appends to this follower should wait.
    var isPaused: Bool {
        switch state {
        case .probe: msgAppFlowPaused
        case .replicate: inflights.isFull
        case .snapshot: true
        }
    }
}
