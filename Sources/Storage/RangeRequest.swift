/// A read of the keys in a range at a revision, with etcd's `RangeRequest` options.
public struct RangeRequest: Sendable, Hashable {
    public enum SortOrder: Sendable, Hashable {
        case none, ascend, descend
    }

    public enum SortTarget: Sendable, Hashable {
        case key, version, create, mod, value
    }

    public var key: [UInt8]
    /// etcd's convention: empty for one key, `[0]` for every key from `key` on.
    public var rangeEnd: [UInt8]
    /// At most this many keys in the response (0: no limit); `more` says whether there were more.
    public var limit: Int64
    /// The revision to read at; 0 or less reads the current revision.
    public var revision: Int64
    public var sortOrder: SortOrder
    public var sortTarget: SortTarget
    public var keysOnly: Bool
    public var countOnly: Bool
    public var minModRevision: Int64
    public var maxModRevision: Int64
    public var minCreateRevision: Int64
    public var maxCreateRevision: Int64

    public init(
        key: [UInt8], rangeEnd: [UInt8] = [], limit: Int64 = 0, revision: Int64 = 0,
        sortOrder: SortOrder = .none, sortTarget: SortTarget = .key, keysOnly: Bool = false,
        countOnly: Bool = false, minModRevision: Int64 = 0, maxModRevision: Int64 = 0,
        minCreateRevision: Int64 = 0, maxCreateRevision: Int64 = 0
    ) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.limit = limit
        self.revision = revision
        self.sortOrder = sortOrder
        self.sortTarget = sortTarget
        self.keysOnly = keysOnly
        self.countOnly = countOnly
        self.minModRevision = minModRevision
        self.maxModRevision = maxModRevision
        self.minCreateRevision = minCreateRevision
        self.maxCreateRevision = maxCreateRevision
    }

    /// Filters and sorting need every key before the limit applies, as in etcd's applier.
    var needsAllKeys: Bool {
        sortOrder != .none || sortTarget != .key || minModRevision != 0 || maxModRevision != 0
            || minCreateRevision != 0 || maxCreateRevision != 0
    }
}
