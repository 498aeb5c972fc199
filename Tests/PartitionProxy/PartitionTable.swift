import Foundation

/// The set of member pairs that currently cannot reach each other.
///
/// A network partition drops traffic in both directions, so cuts are unordered pairs of member
/// labels. Cuts accumulate (several `split` or `isolate` calls combine) until `heal()` removes
/// them all. Proxy pumps that hold data for a cut pair block on this table's condition, so a
/// heal releases them at once rather than after a polling interval.
public final class PartitionTable: @unchecked Sendable {
    private let condition = NSCondition()
    /// Invariant: no pair has equal ends — a member always reaches itself.
    private var cuts: Set<UnorderedPair> = []

    public init() {}

    /// Cuts the pair `a`–`b`. Cutting a member from itself is ignored.
    public func cut(_ a: String, _ b: String) {
        change { cuts in Self.insert(a, b, into: &cuts) }
    }

    /// Cuts `label` from each of `others`, leaving the pairs among `others` untouched.
    public func isolate(_ label: String, from others: [String]) {
        change { cuts in
            for other in others { Self.insert(label, other, into: &cuts) }
        }
    }

    /// Cuts every pair with one end in `side` and the other in `other`, leaving pairs within
    /// a side untouched: `split(["m1", "m2"], ["m3", "m4", "m5"])` is a 2 | 3 partition.
    public func split(_ side: [String], _ other: [String]) {
        change { cuts in
            for a in side {
                for b in other { Self.insert(a, b, into: &cuts) }
            }
        }
    }

    /// Removes every cut and wakes every pump holding data.
    public func heal() {
        change { cuts in cuts.removeAll() }
    }

    /// Whether traffic from `source` to `destination` is dropped. An unknown source (`nil`)
    /// is never cut: the proxy only partitions connections it could attribute to a member.
    public func isCut(_ source: String?, _ destination: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return isCutLocked(source, destination)
    }

    /// Whether any pair is cut.
    public var isPartitioned: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !cuts.isEmpty
    }

    /// The cut pairs, each ordered and the list sorted, for logs and assertions.
    public var cutPairs: [(String, String)] {
        condition.lock()
        let pairs = cuts.map { ($0.low, $0.high) }
        condition.unlock()
        return pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    }

    /// Blocks while `source`–`destination` is cut.
    ///
    /// Returns `true` once the pair is passable, or `false` as soon as `shouldAbandon` holds
    /// (checked under the table's lock whenever the table changes or `wakeWaiters()` is called;
    /// it must not call back into the table). Whoever makes `shouldAbandon` true must call
    /// `wakeWaiters()` afterwards.
    public func waitWhileCut(
        _ source: String?, _ destination: String, abandonIf shouldAbandon: () -> Bool
    ) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while isCutLocked(source, destination) {
            if shouldAbandon() { return false }
            condition.wait()
        }
        return true
    }

    /// Wakes every `waitWhileCut` so it re-checks its abandon condition (used on shutdown).
    public func wakeWaiters() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    private func isCutLocked(_ source: String?, _ destination: String) -> Bool {
        guard let source else { return false }
        return cuts.contains(UnorderedPair(source, destination))
    }

    private func change(_ body: (inout Set<UnorderedPair>) -> Void) {
        condition.lock()
        body(&cuts)
        condition.broadcast()
        condition.unlock()
    }

    private static func insert(_ a: String, _ b: String, into cuts: inout Set<UnorderedPair>) {
        guard a != b else { return }
        cuts.insert(UnorderedPair(a, b))
    }
}

/// Two labels in a canonical order, so that `a`–`b` and `b`–`a` are the same cut.
private struct UnorderedPair: Hashable {
    let low: String
    let high: String

    init(_ a: String, _ b: String) {
        (low, high) = a <= b ? (a, b) : (b, a)
    }
}
