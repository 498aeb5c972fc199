import Raft

extension SplitMix64 {
    /// A number in `0..<bound`. The modulo bias is irrelevant for test data.
    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}
