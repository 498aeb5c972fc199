/// The answer to a ``RangeRequest``.
public struct RangeResponse: Sendable, Hashable {
    /// The store revision the read saw (the response header's revision).
    public var revision: Int64
    public var kvs: [KeyValue]
    /// Whether `limit` cut keys off.
    public var more: Bool
    /// How many keys the range holds at the revision, before limit and filters, as etcd counts.
    public var count: Int64

    public init(revision: Int64, kvs: [KeyValue], more: Bool, count: Int64) {
        self.revision = revision
        self.kvs = kvs
        self.more = more
        self.count = count
    }
}
