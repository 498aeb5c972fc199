import Foundation
import XCTest

@testable import Raft

/// Runs the deterministic cluster simulation over many seeds. Environment:
/// - `RAFT_SIM_SEED=N` replays one seed (with `RAFT_SIM_TRACE=1` to print its events);
/// - `RAFT_SIM_SEEDS=N` sets how many seeds run (default 200), starting at `RAFT_SIM_FIRST_SEED`.
final class RaftSimulationTests: XCTestCase {
    func testSafetyAndLivenessAcrossSeeds() throws {
        let environment = ProcessInfo.processInfo.environment
        let seeds: [UInt64]
        if let single = environment["RAFT_SIM_SEED"].flatMap(UInt64.init) {
            seeds = [single]
        } else {
            let count = environment["RAFT_SIM_SEEDS"].flatMap(UInt64.init) ?? 200
            let first = environment["RAFT_SIM_FIRST_SEED"].flatMap(UInt64.init) ?? 1
            seeds = Array(first..<(first + count))
        }
        let trace = environment["RAFT_SIM_TRACE"] == "1"
        var totals = Simulator.Stats()
        var failures: [String] = []
        for seed in seeds {
            let simulator = Simulator(options: SimulationOptions(seed: seed), trace: trace)
            do {
                try simulator.run()
            } catch {
                failures.append("seed \(seed): \(error)\n  replay: RAFT_SIM_SEED=\(seed) RAFT_SIM_TRACE=1 swift test --filter RaftSimulationTests")
            }
            totals.messagesDelivered += simulator.stats.messagesDelivered
            totals.proposalsAccepted += simulator.stats.proposalsAccepted
            totals.confChangesApplied += simulator.stats.confChangesApplied
            totals.snapshotsInstalled += simulator.stats.snapshotsInstalled
            totals.readsAnswered += simulator.stats.readsAnswered
            totals.leaderChanges += simulator.stats.leaderChanges
            totals.crashes += simulator.stats.crashes
        }
        print("raft simulation: \(seeds.count) seeds, \(failures.count) failed; totals: \(totals)")
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
        if seeds.count >= 50 {
            // The fault schedule must really exercise the hard paths, or the run proves little.
            XCTAssertGreaterThan(totals.snapshotsInstalled, 0, "no snapshot was ever installed")
            XCTAssertGreaterThan(totals.confChangesApplied, 0, "no membership change was ever applied")
            XCTAssertGreaterThan(totals.crashes, 0, "no node ever crashed")
            XCTAssertGreaterThan(totals.readsAnswered, 0, "no read index was ever answered")
        }
    }
}
