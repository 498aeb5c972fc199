/// What a restore wrote: `cairn snapshot restore -w json` prints it.
public struct RestoreSummary: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var name: String
        public var id: String
        public var peerURLs: [String]
    }

    public var dataDir: String
    /// `cairn` (a cairn archive), `etcd-archive` (an etcd backend in a cairn archive) or
    /// `etcd` (a bare etcd snapshot file, as `etcdctl snapshot save` writes).
    public var snapshotFormat: String
    /// The store revision in the snapshot, and the compaction it carried.
    public var snapshotRevision: Int64
    public var snapshotCompactRevision: Int64
    /// The restored store's revision: the next write gets the one after it.
    public var revision: Int64
    public var compactRevision: Int64
    public var revisionBump: Int64
    public var keyCount: Int64
    public var leaseCount: Int
    public var clusterID: String
    public var memberID: String
    public var name: String
    public var members: [Member]
    /// Alarms the snapshot carried, cleared because they name members of the old cluster.
    public var alarmsCleared: [String]
    public var databaseBytes: Int64
}
