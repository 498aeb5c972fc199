/// The keys a request names, decoded from etcd's `(key, range_end)` convention: an empty
/// `range_end` names the single key, `range_end == "\0"` every key from `key` on, anything
/// else the half-open interval `[key, range_end)`.
struct KeyRange: Sendable, Hashable {
    let start: [UInt8]
    /// Exclusive; `nil` means unbounded.
    let end: [UInt8]?
    let isSingleKey: Bool

    init(key: [UInt8], rangeEnd: [UInt8]) {
        start = key
        if rangeEnd.isEmpty {
            isSingleKey = true
            end = nil
        } else {
            isSingleKey = false
            end = rangeEnd == [0] ? nil : rangeEnd
        }
    }

    /// Whether every key at or after `key` lies beyond the range, which ends a forward scan.
    func isPast(_ key: [UInt8]) -> Bool {
        if isSingleKey { return key != start }
        guard let end else { return false }
        return !key.lexicographicallyPrecedes(end)
    }
}
