/// One entry of etcd's `key` bucket: a key's version as written at one revision.
public struct EtcdKeyVersion: Sendable, Equatable {
    /// The main revision: the transaction that wrote this version.
    public var main: Int64
    /// The sub revision: the change's position within that transaction.
    public var sub: Int64
    /// Whether this entry records a deletion rather than a value.
    public var isTombstone: Bool
    /// The raw protobuf `mvccpb.KeyValue` (key, create/mod revision, version, value, lease).
    /// For a tombstone it holds just the key. Decoding is left to the caller.
    public var value: [UInt8]

    /// Creates a key version.
    public init(main: Int64, sub: Int64, isTombstone: Bool, value: [UInt8]) {
        self.main = main
        self.sub = sub
        self.isTombstone = isTombstone
        self.value = value
    }
}
