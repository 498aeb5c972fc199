import Foundation
@testable import Scheduler

/// The properties every plan must have, checked against the plan's own input.
///
/// Period names come from `PeriodOracle`, not from the library, so a wrong hour, day, ISO week
/// or month shows up as a violation here. Work is by position in the newest-first input, since
/// this runs after every one of hundreds of thousands of simulated prunes.
struct RetentionInvariants {
    let policy: RetentionPolicy
    /// The four `PeriodOracle` names of each snapshot, by snapshot name.
    let labels: [String: [String]]

    /// The first violated property, described for a failure message, or `nil` if all hold.
    func violation(input: [SnapshotRecord], plan: RetentionPlan) -> String? {
        let ordered = input.sorted { Self.isNewer($0, than: $1) }
        let kept: [[String]?]
        switch decisionsByPosition(ordered, plan) {
        case .failure(let detail): return "(2) keep and delete partition the input: \(detail)"
        case .success(let byPosition): kept = byPosition
        }
        let periodLabels = ordered.map { labels[$0.name]! }
        let demanded = PeriodOracle.allCases.indices.map { kind in
            let limit = PeriodOracle.allCases[kind].count(in: policy) ?? 0
            return newestPerPeriod(ordered, periodLabels, kind: kind, limit: limit)
        }
        if let detail = checkNewestKept(ordered, kept) { return "(1) newest verified kept: \(detail)" }
        if let detail = checkReasonsPresent(plan) { return "(3) every decision has a reason: \(detail)" }
        if let detail = checkBound(plan) { return "(4) kept count bounded by the policy: \(detail)" }
        if let detail = checkPeriods(ordered, periodLabels, kept, demanded: demanded) {
            return "(6) every GFS rule covers its periods: \(detail)"
        }
        if let detail = checkLast(ordered, kept) { return "(7) the newest retainLast are kept: \(detail)" }
        let expected = expectedReasons(ordered, periodLabels, demanded: demanded)
        if let detail = checkExact(ordered, plan, kept, expected) {
            return "(9) reasons are exactly the rules that apply: \(detail)"
        }
        if let detail = checkOrder(plan) { return "(10) both lists are newest first: \(detail)" }
        return nil
    }

    private struct Violation: Error {
        var detail: String
    }

    /// Each input position's kept reasons (`nil` when deleted), provided that every input
    /// snapshot is decided exactly once, unchanged.
    private func decisionsByPosition(
        _ ordered: [SnapshotRecord], _ plan: RetentionPlan
    ) -> Result<[[String]?], Violation> {
        let positions = Dictionary(uniqueKeysWithValues: ordered.indices.map { (ordered[$0].name, $0) })
        var decided = [Bool](repeating: false, count: ordered.count)
        var kept = [[String]?](repeating: nil, count: ordered.count)
        for (decisions, keeps) in [(plan.keep, true), (plan.delete, false)] {
            for decision in decisions {
                guard let position = positions[decision.record.name], ordered[position] == decision.record else {
                    return .failure(Violation(detail: "\(decision.record.name) is not an input snapshot, or changed"))
                }
                guard !decided[position] else {
                    return .failure(Violation(detail: "\(decision.record.name) is decided twice"))
                }
                decided[position] = true
                if keeps { kept[position] = decision.reasons }
            }
        }
        if let missing = decided.firstIndex(of: false) {
            return .failure(Violation(detail: "\(ordered[missing].name) is not decided"))
        }
        return .success(kept)
    }

    private func checkNewestKept(_ ordered: [SnapshotRecord], _ kept: [[String]?]) -> String? {
        guard let newest = ordered.firstIndex(where: \.verified) ?? ordered.indices.first else { return nil }
        return kept[newest] == nil ? "\(ordered[newest].name) was deleted" : nil
    }

    private func checkReasonsPresent(_ plan: RetentionPlan) -> String? {
        let bare = (plan.keep + plan.delete).first { $0.reasons.isEmpty || $0.reasons.contains("") }
        return bare.map { "\($0.record.name) has no reason" }
    }

    private func checkBound(_ plan: RetentionPlan) -> String? {
        guard !policy.isEmpty else { return nil }
        let counts = [policy.retainLast, policy.hourly, policy.daily, policy.weekly, policy.monthly]
        let bound = counts.reduce(1) { $0 + ($1 ?? 0) }
        return plan.keep.count <= bound ? nil : "kept \(plan.keep.count) > \(bound)"
    }

    /// For each rule with N: the newest verified snapshot of each of the newest min(N, periods)
    /// periods with one is kept for that period, and the kept verified snapshots cover as many.
    private func checkPeriods(
        _ ordered: [SnapshotRecord], _ periodLabels: [[String]], _ kept: [[String]?], demanded: [[Int]]
    ) -> String? {
        guard !policy.isEmpty else { return nil }
        var covered = [Set<String>](repeating: [], count: PeriodOracle.allCases.count)
        for position in ordered.indices where ordered[position].verified && kept[position] != nil {
            for kind in covered.indices { covered[kind].insert(periodLabels[position][kind]) }
        }
        for (kind, period) in PeriodOracle.allCases.enumerated() {
            for position in demanded[kind] where kept[position]?.contains(periodLabels[position][kind]) != true {
                return "\(periodLabels[position][kind]) should keep \(ordered[position].name); "
                    + "kept for \(kept[position] ?? [])"
            }
            if covered[kind].count < demanded[kind].count {
                return "\(period) covers \(covered[kind].count) periods, wants \(demanded[kind].count)"
            }
        }
        return nil
    }

    private func checkLast(_ ordered: [SnapshotRecord], _ kept: [[String]?]) -> String? {
        let newest = ordered.indices.prefix(max(0, policy.retainLast ?? 0))
        return newest.first { kept[$0] == nil }.map { "\(ordered[$0].name) was deleted" }
    }

    private func checkExact(
        _ ordered: [SnapshotRecord], _ plan: RetentionPlan, _ kept: [[String]?], _ expected: [[String]]
    ) -> String? {
        for position in ordered.indices where kept[position] != nil && kept[position] != expected[position] {
            return "\(ordered[position].name) kept for \(kept[position]!), expected \(expected[position])"
        }
        for position in ordered.indices where kept[position] == nil && !expected[position].isEmpty {
            return "\(ordered[position].name) deleted, expected kept for \(expected[position])"
        }
        for decision in plan.delete {
            let want = decision.record.verified
                ? ["outside every retention rule"]
                : ["failed verification and outside every retention rule"]
            if decision.reasons != want { return "\(decision.record.name) deleted for \(decision.reasons)" }
        }
        return nil
    }

    private func checkOrder(_ plan: RetentionPlan) -> String? {
        for list in [plan.keep, plan.delete] {
            for index in list.indices.dropFirst()
            where !Self.isNewer(list[index - 1].record, than: list[index].record) {
                return "\(list[index - 1].record.name) listed before \(list[index].record.name)"
            }
        }
        return nil
    }

    /// The documented order, restated: later `createdAt`, then the name that sorts last.
    private static func isNewer(_ record: SnapshotRecord, than other: SnapshotRecord) -> Bool {
        record.createdAt == other.createdAt ? record.name > other.name : record.createdAt > other.createdAt
    }

    /// The reasons each position should be kept for, in the library's documented order: safety,
    /// empty policy, retainLast, then hourly, daily, weekly, monthly. Empty means deleted.
    private func expectedReasons(
        _ ordered: [SnapshotRecord], _ periodLabels: [[String]], demanded: [[Int]]
    ) -> [[String]] {
        var reasons = [[String]](repeating: [], count: ordered.count)
        if let newest = ordered.firstIndex(where: \.verified) {
            reasons[newest].append("newest verified")
        } else if !ordered.isEmpty {
            reasons[0].append("newest snapshot (none verified)")
        }
        if policy.isEmpty {
            for position in ordered.indices { reasons[position].append("no retention policy") }
            return reasons
        }
        let last = policy.retainLast ?? 0
        for position in ordered.indices.prefix(max(0, last)) {
            reasons[position].append("last \(last) (#\(position + 1))")
        }
        for kind in demanded.indices {
            for position in demanded[kind] { reasons[position].append(periodLabels[position][kind]) }
        }
        return reasons
    }

    /// The positions of the newest verified snapshot of each of the newest `limit` periods of
    /// kind `kind` that hold one, newest first.
    private func newestPerPeriod(
        _ ordered: [SnapshotRecord], _ periodLabels: [[String]], kind: Int, limit: Int
    ) -> [Int] {
        var seen = Set<String>()
        var result: [Int] = []
        for position in ordered.indices where ordered[position].verified && result.count < limit {
            if seen.insert(periodLabels[position][kind]).inserted { result.append(position) }
        }
        return result
    }
}
