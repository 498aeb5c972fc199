/// Checks the guarantees etcd gives a single watcher against the writes the store made.
public enum WatchCheck {
    /// A write's identity: one transaction writes several keys at one revision.
    private struct Slot: Hashable, Comparable {
        let revision: Int64
        let key: String

        static func < (a: Slot, b: Slot) -> Bool {
            (a.revision, a.key) < (b.revision, b.key)
        }
    }

    /// Checks the events one watcher received, in the order received, against every write
    /// the store is known to have made.
    ///
    /// The watch covers keys starting with `keyPrefix` (empty for all keys) from
    /// `startRevision` on. The guarantees checked:
    ///  - every event is inside the watched range and matches a write (kind and value);
    ///  - no event arrives twice;
    ///  - revisions never decrease; equal revisions are a transaction's keys, each once;
    ///  - no gap: every watched write up to the newest revision received was received.
    ///    Writes after it may simply not have arrived yet.
    ///
    /// - Returns: one readable line per problem, in the order found; empty when all hold.
    public static func check(
        received: [WatchEvent],
        writes: [WriteRecord],
        startRevision: Int64,
        keyPrefix: String
    ) -> [String] {
        func isWatched(_ revision: Int64, _ key: String) -> Bool {
            revision >= startRevision && key.hasPrefix(keyPrefix)
        }
        var problems: [String] = []

        var expected: [Slot: WriteRecord] = [:]
        for write in writes where isWatched(write.revision, write.key) {
            if expected.updateValue(write, forKey: Slot(revision: write.revision, key: write.key)) != nil {
                problems.append("writes list has two writes of key \(String(reflecting: write.key)) at revision \(write.revision)")
            }
        }

        var seen: Set<Slot> = []
        var newest = startRevision - 1
        for (position, event) in received.enumerated() {
            let slot = Slot(revision: event.revision, key: event.key)
            let label = "event #\(position) (revision \(event.revision), key \(String(reflecting: event.key)))"
            guard isWatched(event.revision, event.key) else {
                problems.append("\(label): outside the watched range (keys \(String(reflecting: keyPrefix))…, revisions \(startRevision)…)")
                continue
            }
            guard seen.insert(slot).inserted else {
                problems.append("\(label): received twice")
                continue
            }
            if event.revision < newest {
                problems.append("\(label): out of order, arrived after revision \(newest)")
            }
            newest = max(newest, event.revision)
            guard let write = expected[slot] else {
                problems.append("\(label): no such write was made")
                continue
            }
            if write.kind != event.kind || (write.kind == .put && write.value != event.value) {
                problems.append("\(label): expected \(describe(write.kind, write.value)), got \(describe(event.kind, event.value))")
            }
        }

        for slot in expected.keys.sorted() where slot.revision <= newest && !seen.contains(slot) {
            let write = expected[slot]!
            problems.append("missing \(describe(write.kind, write.value)) of key \(String(reflecting: write.key)) at revision \(write.revision)")
        }
        return problems
    }

    private static func describe(_ kind: WatchEvent.Kind, _ value: String?) -> String {
        switch kind {
        case .put: return "put " + (value.map { String(reflecting: $0) } ?? "of no value")
        case .delete: return "delete"
        }
    }
}
