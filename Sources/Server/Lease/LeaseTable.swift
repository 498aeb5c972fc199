/// The leader's view of lease deadlines: pure bookkeeping, no clock and no I/O (the caller
/// passes `now`). Existence is the store's business — a lease here may already be revoked
/// (callers check the store), and a lease the store has but this table lacks gets its full
/// TTL on its next renewal.
struct LeaseTable<Instant: InstantProtocol> where Instant.Duration == Duration {
    struct Entry {
        var grantedTTLSeconds: Int64
        var deadline: Instant
        /// A revoke for this lease is in the log: renewals must not bring it back. `deadline`
        /// is then when to propose the revoke again if this one is lost.
        var revoking: Bool
    }

    private(set) var entries: [Int64: Entry] = [:]

    /// Granted or renewed now: the full TTL again. Also clears a pending revoke's claim, so
    /// only call it for a lease the store still holds.
    mutating func track(id: Int64, ttlSeconds: Int64, now: Instant) {
        entries[id] = Entry(grantedTTLSeconds: ttlSeconds, deadline: now.advanced(by: .seconds(ttlSeconds)), revoking: false)
    }

    /// Renews `id` (held by the store with `ttlSeconds`) and returns its TTL, or nil when it
    /// has expired: its revoke is due or in the log, and a renewal must not outrun it.
    mutating func renew(id: Int64, ttlSeconds: Int64, now: Instant) -> Int64? {
        if let entry = entries[id], entry.revoking || entry.deadline <= now { return nil }
        track(id: id, ttlSeconds: ttlSeconds, now: now)
        return ttlSeconds
    }

    /// Whole seconds left (truncated, as etcd reports them), 0 once expired; nil when untracked.
    func remainingSeconds(id: Int64, now: Instant) -> Int64? {
        guard let entry = entries[id] else { return nil }
        guard !entry.revoking, now < entry.deadline else { return 0 }
        return now.duration(to: entry.deadline).components.seconds
    }

    /// Up to `limit` leases whose deadline has passed, earliest first, now marked as revoking
    /// until `retryAt` (when they become due again should their revoke be lost).
    mutating func takeExpired(now: Instant, limit: Int, retryAt: Instant) -> [Int64] {
        precondition(limit > 0, "an expiry round must be able to make progress")
        let due = entries.filter { $0.value.deadline <= now }
            .sorted { ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key) }
            .prefix(limit)
            .map(\.key)
        for id in due {
            entries[id]?.revoking = true
            entries[id]?.deadline = retryAt
        }
        return due
    }

    mutating func remove(id: Int64) {
        entries[id] = nil
    }

    /// A new leader: every lease gets what the last leader checkpointed of it, or its full
    /// TTL if none was (as etcd with lease checkpoints).
    mutating func promote(leases: [(id: Int64, ttlSeconds: Int64, startingSeconds: Int64)], now: Instant) {
        entries = [:]
        for lease in leases {
            entries[lease.id] = Entry(grantedTTLSeconds: lease.ttlSeconds,
                deadline: now.advanced(by: .seconds(lease.startingSeconds)), revoking: false)
        }
    }

    /// The leases whose remaining TTL has run below their granted TTL, with that remainder:
    /// what a checkpoint should carry to the next leader.
    func checkpoints(now: Instant) -> [(id: Int64, remainingSeconds: Int64)] {
        entries.keys.sorted().compactMap { id in
            guard let entry = entries[id], !entry.revoking, let remaining = remainingSeconds(id: id, now: now),
                remaining > 0, remaining < entry.grantedTTLSeconds
            else { return nil }
            return (id, remaining)
        }
    }

    /// No longer leader: deadlines are the next leader's to keep.
    mutating func demote() {
        entries = [:]
    }
}
