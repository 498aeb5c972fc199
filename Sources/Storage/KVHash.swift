/// A content hash of the key-value history, comparable across members (etcd's HashKV).
public struct KVHash: Sendable, Hashable {
    /// CRC-32C over the records kept by compaction, up to ``revision``.
    public var hash: UInt32
    /// The revision the hash covers.
    public var revision: Int64
    public var compactRevision: Int64
    /// Live keys at ``revision``.
    public var keyCount: Int64
}
