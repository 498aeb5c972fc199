/// One guard of a ``TxnRequest``: a field of every key in a range compared with a constant.
public struct Compare: Sendable, Hashable {
    public enum Result: Sendable, Hashable {
        case equal, notEqual, less, greater
    }

    /// The field compared, with the constant it is compared to.
    public enum Target: Sendable, Hashable {
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case value([UInt8])
        case lease(Int64)
    }

    public var key: [UInt8]
    /// etcd's convention: empty for one key, `[0]` for every key from `key` on.
    public var rangeEnd: [UInt8]
    public var result: Result
    public var target: Target

    public init(key: [UInt8], rangeEnd: [UInt8] = [], result: Result, target: Target) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.result = result
        self.target = target
    }

    /// etcd's rule: a missing key compares as a zero `KeyValue` (version 0, …), except that a
    /// value comparison against a missing key is false; over a range, every key must match.
    func holds(for kvs: [KeyValue]) -> Bool {
        if kvs.isEmpty {
            if case .value = target { return false }
            return holds(for: KeyValue(key: key))
        }
        return kvs.allSatisfy { holds(for: $0) }
    }

    private func holds(for kv: KeyValue) -> Bool {
        let ordering: Int
        switch target {
        case .version(let constant): ordering = Self.order(kv.version, constant)
        case .createRevision(let constant): ordering = Self.order(kv.createRevision, constant)
        case .modRevision(let constant): ordering = Self.order(kv.modRevision, constant)
        case .lease(let constant): ordering = Self.order(kv.lease, constant)
        case .value(let constant):
            ordering = kv.value == constant ? 0 : (kv.value.lexicographicallyPrecedes(constant) ? -1 : 1)
        }
        switch result {
        case .equal: return ordering == 0
        case .notEqual: return ordering != 0
        case .less: return ordering < 0
        case .greater: return ordering > 0
        }
    }

    private static func order(_ lhs: Int64, _ rhs: Int64) -> Int {
        lhs == rhs ? 0 : (lhs < rhs ? -1 : 1)
    }
}
