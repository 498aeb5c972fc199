import Raft

/// Raft's seeded SplitMix64 drives the simulated histories, so each replays exactly from its seed.
extension SplitMix64 {
    /// True with probability `percent`/100.
    mutating func chance(percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &self) < percent
    }
}
