/// The key ranges one user may read and write: the union of its roles' permissions, merged
/// into disjoint intervals so that a request's range is allowed only when one interval covers
/// all of it (a range split across two roles' permissions is allowed too, as in etcd).
public struct AuthRanges: Sendable {
    /// A half-open interval of keys; `end == nil` runs to the end of the key space.
    struct Interval: Equatable {
        var start: [UInt8]
        var end: [UInt8]?

        /// etcd's reading of a key and range end: empty end is the single key, `[0]` every key
        /// from `key` on.
        init(key: [UInt8], rangeEnd: [UInt8]) {
            start = key
            if rangeEnd.isEmpty {
                end = key + [0]
            } else if rangeEnd == [0] {
                end = nil
            } else {
                end = rangeEnd
            }
        }
    }

    /// The user holds the root role: everything is allowed.
    public let isRoot: Bool
    private let read: [Interval]
    private let write: [Interval]

    public init(user: AuthUser, roles: [AuthRole]) {
        isRoot = user.hasRootRole
        let permissions = roles.filter { user.roles.contains($0.name) }.flatMap(\.permissions)
        read = Self.merged(permissions.filter { $0.kind.allows(.read) })
        write = Self.merged(permissions.filter { $0.kind.allows(.write) })
    }

    /// Whether `access` to `key` (or the range `[key, rangeEnd)`, in etcd's encoding) is allowed.
    public func permits(_ access: AuthPermission.Access, key: [UInt8], rangeEnd: [UInt8] = []) -> Bool {
        if isRoot { return true }
        var wanted = Interval(key: key, rangeEnd: rangeEnd)
        // An inverted range selects nothing; asking for it needs no more than its first key.
        if let end = wanted.end, !key.lexicographicallyPrecedes(end) { wanted.end = key + [0] }
        let intervals = access == .read ? read : write
        return intervals.contains { interval in
            guard !key.lexicographicallyPrecedes(interval.start) else { return false }
            guard let have = interval.end else { return true }
            guard let need = wanted.end else { return false }
            return !have.lexicographicallyPrecedes(need)
        }
    }

    /// Sorted, overlapping or touching intervals joined.
    static func merged(_ permissions: [AuthPermission]) -> [Interval] {
        let intervals = permissions.map { Interval(key: $0.key, rangeEnd: $0.rangeEnd) }
            .sorted { $0.start.lexicographicallyPrecedes($1.start) }
        var result: [Interval] = []
        for interval in intervals {
            guard var last = result.last else {
                result.append(interval)
                continue
            }
            guard let lastEnd = last.end else { continue }
            if interval.start.lexicographicallyPrecedes(lastEnd) || interval.start == lastEnd {
                if let end = interval.end {
                    if lastEnd.lexicographicallyPrecedes(end) { last.end = end }
                } else {
                    last.end = nil
                }
                result[result.count - 1] = last
            } else {
                result.append(interval)
            }
        }
        return result
    }
}
