import Foundation

/// Decides which snapshots of a backup directory to keep and which to delete.
///
/// Pure: the caller lists the directory, reads the clock's time zone and performs the deletes;
/// this only computes, so `cairn schedule prune --dry-run` and the scheduler see the same plan.
public enum Retention {
    /// Reason for the snapshot kept whatever the policy, while at least one is verified.
    static let newestVerifiedReason = "newest verified"
    /// Reason for the snapshot kept whatever the policy, when none is verified.
    static let newestUnverifiedReason = "newest snapshot (none verified)"
    /// Reason for deleting a verified snapshot.
    static let outsideReason = "outside every retention rule"
    /// Reason for deleting a snapshot that failed verification.
    static let failedOutsideReason = "failed verification and outside every retention rule"

    /// Plans a prune of `records` under `policy`.
    ///
    /// Rules, each adding its reason to the snapshots it keeps:
    /// - The newest verified snapshot is always kept; when none is verified, the newest snapshot is.
    /// - An empty policy keeps everything.
    /// - `retainLast N` keeps the newest N snapshots, verified or not.
    /// - `hourly`/`daily`/`weekly`/`monthly N` group the verified snapshots by local hour, local
    ///   day, ISO 8601 week and local month in `timeZone`, and keep the newest verified snapshot
    ///   of each of the newest N periods that have one. Snapshots that failed verification never
    ///   fill a period. An hour repeated when clocks go back is one period.
    /// - Everything else is deleted.
    ///
    /// "Newest" orders by `createdAt`, then by name, so equal instants plan the same every time.
    ///
    /// - Precondition: `policy.validate()` passes and the names in `records` are unique.
    public static func plan(
        _ records: [SnapshotRecord], policy: RetentionPolicy, timeZone: TimeZone
    ) -> RetentionPlan {
        precondition((try? policy.validate()) != nil, "plan called with an invalid policy: \(policy)")
        precondition(Set(records.map(\.name)).count == records.count, "snapshot names must be unique")

        let ordered = records.sorted { $0.isNewer(than: $1) }
        var reasons = [[String]](repeating: [], count: ordered.count)
        if let newest = ordered.firstIndex(where: \.verified) {
            reasons[newest].append(newestVerifiedReason)
        } else if !ordered.isEmpty {
            reasons[0].append(newestUnverifiedReason)
        }
        if policy.isEmpty {
            for index in ordered.indices { reasons[index].append(RetentionPolicy.emptyReason) }
        } else {
            addLastReasons(policy.retainLast ?? 0, count: ordered.count, to: &reasons)
            addPeriodReasons(ordered, policy: policy, timeZone: timeZone, to: &reasons)
        }
        return assemble(ordered, reasons: reasons)
    }

    private static func addLastReasons(_ retainLast: Int, count: Int, to reasons: inout [[String]]) {
        for index in 0..<min(retainLast, count) {
            reasons[index].append("last \(retainLast) (#\(index + 1))")
        }
    }

    /// Walks the verified snapshots newest first once per bucket kind: the first snapshot met in
    /// a period is that period's newest, and the walk stops once N periods are filled.
    private static func addPeriodReasons(
        _ ordered: [SnapshotRecord], policy: RetentionPolicy, timeZone: TimeZone,
        to reasons: inout [[String]]
    ) {
        let used = RetentionPeriod.allCases.contains { ($0.count(in: policy) ?? 0) > 0 }
        guard used else { return }
        let calendar = LocalTime.calendar(in: timeZone)
        var verified: [Int] = []
        var times: [LocalTime] = []
        for index in ordered.indices where ordered[index].verified {
            verified.append(index)
            times.append(LocalTime(ordered[index].createdAt, calendar: calendar))
        }
        for period in RetentionPeriod.allCases {
            guard let count = period.count(in: policy), count > 0 else { continue }
            var filled = Set<Int>(minimumCapacity: min(count, verified.count))
            for position in verified.indices {
                if filled.count == count { break }
                if filled.insert(period.key(for: times[position])).inserted {
                    reasons[verified[position]].append(period.reason(for: times[position]))
                }
            }
        }
    }

    private static func assemble(_ ordered: [SnapshotRecord], reasons: [[String]]) -> RetentionPlan {
        var keep: [RetentionPlan.Decision] = []
        var delete: [RetentionPlan.Decision] = []
        for index in ordered.indices {
            let record = ordered[index]
            if reasons[index].isEmpty {
                let reason = record.verified ? outsideReason : failedOutsideReason
                delete.append(.init(record: record, reasons: [reason]))
            } else {
                keep.append(.init(record: record, reasons: reasons[index]))
            }
        }
        assert(keep.count + delete.count == ordered.count, "every snapshot is decided once")
        assert(ordered.isEmpty || !keep.isEmpty, "a non-empty directory keeps a snapshot")
        return RetentionPlan(keep: keep, delete: delete)
    }
}
