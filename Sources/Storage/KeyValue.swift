/// One version of a key, as etcd's `mvccpb.KeyValue` carries it.
public struct KeyValue: Sendable, Hashable {
    public var key: [UInt8]
    /// The revision of the put that created this generation of the key.
    public var createRevision: Int64
    /// The revision of the last change to the key.
    public var modRevision: Int64
    /// How many puts this generation has seen; a delete resets it to 0.
    public var version: Int64
    public var value: [UInt8]
    /// The lease the key is attached to, 0 for none.
    public var lease: Int64

    public init(
        key: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0,
        value: [UInt8] = [], lease: Int64 = 0
    ) {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.value = value
        self.lease = lease
    }
}
