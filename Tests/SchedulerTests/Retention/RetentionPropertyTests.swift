import Foundation
@testable import Scheduler
import XCTest

/// Seeded simulations of scheduled snapshots, pruned after every one the way the scheduler does.
///
/// `RETENTION_SEEDS=N` raises the number of histories (default 200 short ones, and one year-long
/// one per 64 of those, at least 3); `RETENTION_SEED=S` replays the one seed a failure printed.
final class RetentionPropertyTests: XCTestCase {
    /// Sized so that all three simulations take about 20 s of CPU in a debug build: about 10 s
    /// on 2 idle cores.
    static let defaultSeedCount = 200

    /// Many policies and time zones over short histories: hourly, 6-hourly or daily snapshots,
    /// 100–300 slots, so the daily and monthly cases span up to ten months.
    func testInvariantsHoldAfterEveryPruneOverManyShortHistories() async {
        let outcomes = await Self.runAll(Self.seeds(count: Self.seedCount)) { seed in
            RetentionSimulation.randomSetup(seed: seed, intervalsHours: [1, 6, 24], slots: 100...300, sleepPerMille: 10)
        }
        Self.assertNoFailure(outcomes)
    }

    /// Fewer, longer histories: 1–3 years of hourly snapshots with days-long gaps.
    func testInvariantsHoldAfterEveryPruneOverYearsOfHourlySnapshots() async {
        let outcomes = await Self.runAll(Self.seeds(count: max(3, Self.seedCount / 64))) { seed in
            RetentionSimulation.randomSetup(seed: seed, intervalsHours: [1], slots: 8_760...26_280, sleepPerMille: 2)
        }
        Self.assertNoFailure(outcomes)
    }

    func testDailyWeeklyMonthlyKeepsAboutAYearAfterTwoYearsHourly() async {
        let outcomes = await Self.runAll([0, 1]) { seed in
            var setup = RetentionSimulation.randomSetup(
                seed: seed, intervalsHours: [1], slots: 17_520...17_520, sleepPerMille: 0)
            setup.policy = RetentionPolicy(daily: 7, weekly: 4, monthly: 12)
            setup.timeZone = TimeZone(identifier: RetentionSimulation.timeZones[Int(seed) % 2])!
            // The other tests check every step; this one is about where two years of pruning ends.
            setup.checkEveryStep = false
            return setup
        }
        for (setup, outcome) in outcomes {
            guard let newest = outcome.newest, let oldest = outcome.kept.last else {
                XCTFail(Self.describe(setup, "nothing kept"))
                continue
            }
            let calendar = PeriodOracle.calendar(in: setup.timeZone)
            let months = calendar.dateComponents(
                [.month], from: calendar.dateComponents([.year, .month], from: oldest.createdAt),
                to: calendar.dateComponents([.year, .month], from: newest.createdAt)).month!
            // Counting the newest's month as the 1st, the oldest kept is in the 12th month back
            // (the 13th when the newest month has no verified snapshot yet).
            XCTAssert((11...12).contains(months), Self.describe(
                setup, "oldest kept \(oldest.createdAt) is \(months) months before \(newest.createdAt)"))
            XCTAssertLessThanOrEqual(outcome.kept.count, 7 + 4 + 12 + 1, Self.describe(setup, "kept too many"))
        }
    }

    private static var seedCount: Int {
        ProcessInfo.processInfo.environment["RETENTION_SEEDS"].flatMap(Int.init) ?? defaultSeedCount
    }

    /// Seeds 0..<count, or only `RETENTION_SEED` when replaying.
    private static func seeds(count: Int) -> [UInt64] {
        if let seed = ProcessInfo.processInfo.environment["RETENTION_SEED"].flatMap(UInt64.init) { return [seed] }
        return (0..<UInt64(max(1, count))).map { $0 }
    }

    private static func assertNoFailure(_ outcomes: [(RetentionSimulation.Setup, RetentionSimulation.Outcome)]) {
        for (setup, outcome) in outcomes {
            if let failure = outcome.failure { XCTFail(describe(setup, failure)) }
        }
    }

    /// Runs one simulation per seed, spread over the cores; results come back in seed order.
    /// Nonisolated so the simulations leave the test's actor and run in parallel.
    private nonisolated static func runAll(
        _ seeds: [UInt64], setup: @escaping @Sendable (UInt64) -> RetentionSimulation.Setup
    ) async -> [(RetentionSimulation.Setup, RetentionSimulation.Outcome)] {
        await withTaskGroup(of: (Int, RetentionSimulation.Setup, RetentionSimulation.Outcome).self) { group in
            for (index, seed) in seeds.enumerated() {
                group.addTask {
                    let simulation = RetentionSimulation(setup: setup(seed))
                    return (index, simulation.setup, simulation.run())
                }
            }
            var results: [(Int, RetentionSimulation.Setup, RetentionSimulation.Outcome)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map { ($0.1, $0.2) }
        }
    }

    private static func describe(_ setup: RetentionSimulation.Setup, _ failure: String) -> String {
        "seed \(setup.seed) (replay: RETENTION_SEED=\(setup.seed) swift test), policy \(setup.policy), "
            + "time zone \(setup.timeZone.identifier), start \(setup.start), every \(setup.intervalHours) h "
            + "for \(setup.slots) slots: \(failure)"
    }
}
