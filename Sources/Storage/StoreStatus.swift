/// The backend's bookkeeping, for Maintenance.Status, alarms and snapshot manifests.
public struct StoreStatus: Sendable, Hashable {
    /// The store revision of the last write transaction.
    public var revision: Int64
    public var compactRevision: Int64
    /// The index of the last raft entry applied, and its term.
    public var consistentIndex: UInt64
    public var term: UInt64
    public var clusterID: UInt64
    /// The file size LMDB needs (its high-water mark): etcd's `dbSize`.
    public var sizeBytes: Int
    /// Pages actually holding data: etcd's `dbSizeInUse`; defragmentation shrinks
    /// `sizeBytes` towards it.
    public var sizeInUseBytes: Int
    public var quotaBytes: Int
}
