/// What a prune should do with every snapshot it was given, and why.
///
/// Every input snapshot appears exactly once, in `keep` or in `delete`; both lists are ordered
/// newest first.
public struct RetentionPlan: Sendable, Hashable {
    /// One snapshot and the reasons behind what happens to it.
    public struct Decision: Sendable, Hashable {
        /// The snapshot decided on.
        public var record: SnapshotRecord
        /// For a kept snapshot, every rule that keeps it (`"newest verified"`, `"last 3 (#2)"`,
        /// `"daily 2026-11-24"`, …); for a deleted one, why no rule keeps it. Never empty.
        public var reasons: [String]

        /// Pairs a snapshot with its reasons.
        public init(record: SnapshotRecord, reasons: [String]) {
            self.record = record
            self.reasons = reasons
        }
    }

    /// The snapshots to keep, newest first.
    public var keep: [Decision]
    /// The snapshots to delete, newest first.
    public var delete: [Decision]

    /// Assembles a plan from decisions already ordered newest first.
    public init(keep: [Decision], delete: [Decision]) {
        self.keep = keep
        self.delete = delete
    }
}
