/// How much work one linearizability search may do before giving up with no verdict.
///
/// The search is exponential in the worst case, so every run is bounded: by a wall-clock
/// deadline (the caller's timeout) and by a step count (which, unlike time, gives the same
/// answer on a loaded machine, so shrinking stays deterministic).
struct SearchBudget {
    var deadline: ContinuousClock.Instant?
    var stepLimit = Int.max

    /// Whether a search that has taken `steps` steps may take another.
    func allows(steps: Int) -> Bool {
        if steps >= stepLimit { return false }
        // Reading the clock costs far more than a search step, so look only every 1024 steps
        // (starting at step 0, so that an expired deadline stops a search before it starts).
        if steps & 1023 == 0, let deadline, ContinuousClock.now >= deadline { return false }
        return true
    }

    /// Whether the deadline has passed.
    var isExpired: Bool {
        guard let deadline else { return false }
        return ContinuousClock.now >= deadline
    }
}
