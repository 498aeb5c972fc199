/// Names of the values in the `meta` database, each an 8-byte little-endian integer.
enum MetaKey: String {
    /// The index of the last raft entry whose effects are in the store.
    case consistentIndex
    /// The term of that entry.
    case term
    /// The store revision: the revision of the last write transaction; absent until the first
    /// one, when the store is at ``MVCCReader/initialRevision``.
    case revision
    /// The revision below which history is gone (reads fail with "compacted").
    case compactRevision
    /// The compact revision whose physical removal of old versions has completed.
    case finishedCompactRevision
    case clusterID
    /// 1 while auth is enabled.
    case authEnabled
    /// Counts changes to users, roles and the enabled flag (etcd's auth revision).
    case authRevision

    var key: [UInt8] { Array(rawValue.utf8) }
}
