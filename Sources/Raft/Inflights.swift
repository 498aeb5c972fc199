/// The append messages sent to one follower and not yet acknowledged, identified by the last
/// index each carried. Bounded by `capacity`: when full, the leader stops sending (flow control).
/// Invariant: indexes are strictly increasing and `count <= capacity`.
struct Inflights: Hashable {
    let capacity: Int
    private var ring: [LogIndex]
    private var start = 0
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0, "inflight capacity must be positive")
        self.capacity = capacity
        ring = Array(repeating: 0, count: capacity)
    }

    var isFull: Bool { count == capacity }

    mutating func add(_ lastIndex: LogIndex) {
        precondition(!isFull, "cannot add into a full inflights window")
        precondition(count == 0 || ring[(start + count - 1) % capacity] < lastIndex,
            "inflight indexes must increase")
        ring[(start + count) % capacity] = lastIndex
        count += 1
    }

    /// Frees every message whose last index is ≤ `index`: the follower has acknowledged them.
    mutating func freeLE(_ index: LogIndex) {
        while count > 0 && ring[start] <= index {
            start = (start + 1) % capacity
            count -= 1
        }
    }

    /// Frees the oldest message. A heartbeat response proves the follower is reachable while the
    /// window is full, so some appends were probably lost: one slot lets the leader send again,
    /// and the follower's answer (a rejection if it missed them) resynchronises the progress.
    mutating func freeFirstOne() {
        guard count > 0 else { return }
        start = (start + 1) % capacity
        count -= 1
    }

    mutating func reset() {
        start = 0
        count = 0
    }
}
