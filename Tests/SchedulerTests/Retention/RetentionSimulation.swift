import Foundation
import Raft
@testable import Scheduler

/// A scheduler's life replayed from a seed: a snapshot every interval with jitter, the machine
/// now and then asleep for days, a few snapshots failing verification, and a prune after every
/// snapshot in which the kept set carries forward and deleted snapshots are gone.
struct RetentionSimulation {
    /// What one run is made of; everything random is drawn from `seed` up front or while running.
    struct Setup {
        var seed: UInt64
        var policy: RetentionPolicy
        var timeZone: TimeZone
        var start: Date
        /// The schedule: one snapshot every this many hours, a few minutes late.
        var intervalHours: Int
        /// How many scheduled slots the run lasts, slept-through ones included.
        var slots: Int
        var failurePercent: Int
        /// Per slot, the chance in a thousand that the machine sleeps for 1–10 days.
        var sleepPerMille: Int
        /// Whether to check every property after every prune, or only to prune.
        var checkEveryStep = true
    }

    /// How a run ended.
    struct Outcome {
        /// The first violated property with the step it happened at, or `nil`.
        var failure: String?
        /// What the last prune kept.
        var kept: [SnapshotRecord]
        /// The newest snapshot taken.
        var newest: SnapshotRecord?
    }

    static let timeZones = [
        "Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
    ]

    /// A random history under a random, non-empty policy, with the interval drawn from
    /// `intervalsHours` and the length from `slots`.
    static func randomSetup(seed: UInt64, intervalsHours: [Int], slots: ClosedRange<Int>, sleepPerMille: Int) -> Setup {
        var rng = SplitMix64(seed: seed)
        let maxCounts = [8, 30, 14, 8, 18]
        var counts = maxCounts.map { max in rng.chance(percent: 30) ? nil : Int.random(in: 0...max, using: &rng) }
        if counts.allSatisfy({ $0 == nil }) { counts[2] = Int.random(in: 0...14, using: &rng) }
        let policy = RetentionPolicy(
            retainLast: counts[0], hourly: counts[1], daily: counts[2], weekly: counts[3], monthly: counts[4])
        let zone = timeZones[Int.random(in: 0..<timeZones.count, using: &rng)]
        let utc = PeriodOracle.calendar(in: TimeZone(identifier: "UTC")!)
        let year = Int.random(in: 2019...2029, using: &rng)
        // A third of the runs start just before New Year, to cross ISO week-year boundaries early.
        let start = rng.chance(percent: 33)
            ? utc.date(from: DateComponents(year: year, month: 12, day: 21))!
            : utc.date(from: DateComponents(year: year, month: 1, day: 1))!
                .addingTimeInterval(Double.random(in: 0..<365 * 86_400, using: &rng))
        return Setup(
            seed: seed, policy: policy, timeZone: TimeZone(identifier: zone)!, start: start,
            intervalHours: intervalsHours[Int.random(in: 0..<intervalsHours.count, using: &rng)],
            slots: Int.random(in: slots, using: &rng), failurePercent: 5, sleepPerMille: sleepPerMille)
    }

    let setup: Setup

    /// Takes and prunes every snapshot of the history, checking all properties after each prune.
    func run() -> Outcome {
        var rng = SplitMix64(seed: setup.seed ^ 0x5EED)
        let calendar = PeriodOracle.calendar(in: setup.timeZone)
        var labels: [String: [String]] = [:]
        var kept: [SnapshotRecord] = []
        var newest: SnapshotRecord?
        var taken = 0
        var slot = 0
        while slot < setup.slots {
            if Int.random(in: 0..<1_000, using: &rng) < setup.sleepPerMille {
                slot += Int.random(in: 24...240, using: &rng) / setup.intervalHours
            }
            let createdAt = setup.start.addingTimeInterval(
                Double(slot * setup.intervalHours) * 3_600 + Double.random(in: 0..<600, using: &rng))
            // Now and then an operator's manual snapshot lands on the same instant: ties by name.
            let shots = rng.chance(percent: 1) ? 2 : 1
            for shot in 0..<shots {
                let record = SnapshotRecord(
                    name: "snap-\(taken)-\(shot == 0 ? "m" : (rng.chance(percent: 50) ? "a" : "z"))",
                    createdAt: createdAt, verified: !rng.chance(percent: setup.failurePercent),
                    sizeBytes: Int64.random(in: 1...1 << 30, using: &rng))
                if setup.checkEveryStep { labels[record.name] = PeriodOracle.labels(of: createdAt, calendar: calendar) }
                taken += 1
                newest = record
                let input = kept + [record]
                let plan = Retention.plan(input, policy: setup.policy, timeZone: setup.timeZone)
                if setup.checkEveryStep, let failure = violation(input: input, plan: plan, labels: labels) {
                    return Outcome(
                        failure: "after snapshot \(taken) (\(record.name) at \(createdAt)): \(failure)",
                        kept: kept, newest: newest)
                }
                kept = plan.keep.map(\.record)
                for gone in plan.delete { labels[gone.record.name] = nil }
            }
            slot += 1
        }
        return Outcome(failure: nil, kept: kept, newest: newest)
    }

    private func violation(input: [SnapshotRecord], plan: RetentionPlan, labels: [String: [String]]) -> String? {
        let invariants = RetentionInvariants(policy: setup.policy, labels: labels)
        if let broken = invariants.violation(input: input, plan: plan) { return broken }
        let again = Retention.plan(plan.keep.map(\.record), policy: setup.policy, timeZone: setup.timeZone)
        guard again.delete.isEmpty, again.keep == plan.keep else {
            return "(5) idempotence: planning over the kept set deletes \(again.delete.map(\.record.name))"
                + " or changes reasons"
        }
        return nil
    }
}
