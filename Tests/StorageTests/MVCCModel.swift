@testable import Storage

/// The simplest possible model of etcd's MVCC: a full copy of the live keys after every
/// revision. Slow and obviously right, so the LMDB store can be checked against it.
struct MVCCModel {
    /// etcd's history starts at revision 1, empty; the first write gets revision 2.
    private static let initialRevision: Int64 = 1

    private(set) var revision = initialRevision
    private(set) var compactRevision: Int64 = 0
    /// The live keys after each revision, from ``initialRevision`` on; see ``state(at:)``.
    private var states: [[[UInt8]: KeyValue]] = [[:]]
    private(set) var events: [Event] = []
    private(set) var leases: [Int64: Set<[UInt8]>] = [:]

    // Changes of the write transaction in progress.
    private var working: [[UInt8]: KeyValue] = [:]
    private var changed = false

    var current: [[UInt8]: KeyValue] { state(at: revision) }

    private func state(at revision: Int64) -> [[UInt8]: KeyValue] {
        states[Int(revision - Self.initialRevision)]
    }

    mutating func begin() {
        working = current
        changed = false
    }

    mutating func commit() {
        guard changed else { return }
        revision += 1
        states.append(working)
    }

    mutating func put(_ key: [UInt8], _ value: [UInt8], lease: Int64) {
        let next = revision + 1
        let previous = working[key]
        let kv = KeyValue(
            key: key, createRevision: previous?.createRevision ?? next, modRevision: next,
            version: (previous?.version ?? 0) + 1, value: value, lease: lease)
        if let old = previous?.lease, old != 0 { leases[old]?.remove(key) }
        if lease != 0 { leases[lease, default: []].insert(key) }
        working[key] = kv
        events.append(Event(kind: .put, kv: kv, prevKV: current[key]))
        changed = true
    }

    /// Returns how many keys it deleted.
    mutating func delete(_ range: (key: [UInt8], end: [UInt8])) -> Int {
        let doomed = working.keys.filter { Self.contains(range, $0) }.sorted { $0.lexicographicallyPrecedes($1) }
        for key in doomed { deleteKey(key) }
        return doomed.count
    }

    private mutating func deleteKey(_ key: [UInt8]) {
        let previous = working.removeValue(forKey: key)!
        if previous.lease != 0 { leases[previous.lease]?.remove(key) }
        events.append(Event(kind: .delete, kv: KeyValue(key: key, modRevision: revision + 1), prevKV: current[key]))
        changed = true
    }

    mutating func grant(_ id: Int64) { leases[id] = [] }

    mutating func revoke(_ id: Int64) {
        for key in leases[id, default: []].sorted(by: { $0.lexicographicallyPrecedes($1) }) { deleteKey(key) }
        leases[id] = nil
    }

    mutating func compact(_ target: Int64) { compactRevision = target }

    static func contains(_ range: (key: [UInt8], end: [UInt8]), _ key: [UInt8]) -> Bool {
        if range.end.isEmpty { return key == range.key }
        if key.lexicographicallyPrecedes(range.key) { return false }
        return range.end == [0] || key.lexicographicallyPrecedes(range.end)
    }

    enum ReadError: Error, Equatable {
        case compacted, future
    }

    func range(_ request: RangeRequest) -> Result<RangeResponse, ReadError> {
        if request.revision > revision { return .failure(.future) }
        let at = request.revision <= 0 ? revision : request.revision
        if at < compactRevision { return .failure(.compacted) }
        var kvs = state(at: at).values
            .filter { Self.contains((request.key, request.rangeEnd), $0.key) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let count = Int64(kvs.count)
        if request.countOnly { return .success(RangeResponse(revision: revision, kvs: [], more: false, count: count)) }
        kvs = kvs.filter { kv in
            (request.minModRevision == 0 || kv.modRevision >= request.minModRevision)
                && (request.maxModRevision == 0 || kv.modRevision <= request.maxModRevision)
                && (request.minCreateRevision == 0 || kv.createRevision >= request.minCreateRevision)
                && (request.maxCreateRevision == 0 || kv.createRevision <= request.maxCreateRevision)
        }
        let order = request.sortOrder == .none && request.sortTarget != .key ? .ascend : request.sortOrder
        if order != .none {
            func field(_ kv: KeyValue) -> [UInt8] {
                func big(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: UInt64(value).bigEndian) { Array($0) } }
                switch request.sortTarget {
                case .key: return kv.key
                case .version: return big(kv.version)
                case .create: return big(kv.createRevision)
                case .mod: return big(kv.modRevision)
                case .value: return kv.value
                }
            }
            // Keys are unique, so (field, key) is a total order.
            kvs.sort { lhs, rhs in
                let (left, right) = (field(lhs), field(rhs))
                return left == right ? lhs.key.lexicographicallyPrecedes(rhs.key) : left.lexicographicallyPrecedes(right)
            }
            if order == .descend { kvs.reverse() }
        }
        var more = false
        if request.limit > 0, kvs.count > Int(request.limit) {
            kvs = Array(kvs.prefix(Int(request.limit)))
            more = true
        }
        if request.keysOnly { kvs = kvs.map { var kv = $0; kv.value = []; return kv } }
        return .success(RangeResponse(revision: revision, kvs: kvs, more: more, count: count))
    }
}
