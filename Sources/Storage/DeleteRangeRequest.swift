/// A delete of the keys in a range.
public struct DeleteRangeRequest: Sendable, Hashable {
    public var key: [UInt8]
    /// etcd's convention: empty for one key, `[0]` for every key from `key` on.
    public var rangeEnd: [UInt8]
    /// Return the deleted versions.
    public var prevKV: Bool

    public init(key: [UInt8], rangeEnd: [UInt8] = [], prevKV: Bool = false) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.prevKV = prevKV
    }
}

/// The answer to a ``DeleteRangeRequest``.
public struct DeleteRangeResponse: Sendable, Hashable {
    /// The store revision after the delete (unchanged when nothing was deleted).
    public var revision: Int64
    public var deleted: Int64
    /// The deleted versions when requested.
    public var prevKVs: [KeyValue]

    public init(revision: Int64, deleted: Int64, prevKVs: [KeyValue]) {
        self.revision = revision
        self.deleted = deleted
        self.prevKVs = prevKVs
    }
}
