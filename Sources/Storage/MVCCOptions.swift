/// How an ``MVCCStore`` is opened.
public struct MVCCOptions: Sendable, Hashable {
    /// etcd's `--quota-backend-bytes`: puts beyond it fail with NOSPACE.
    public var quotaBytes: Int
    /// Open a copy for inspection: no writer thread, no lock file, every write fails.
    public var readOnly: Bool
    /// Keys whose old versions one background compaction transaction removes.
    public var compactionBatchKeys: Int
    /// Write transactions committed together in one LMDB commit.
    public var maxWriteBatchCount: Int

    public static let defaultQuotaBytes = 2 << 30

    public init(
        quotaBytes: Int = defaultQuotaBytes, readOnly: Bool = false, compactionBatchKeys: Int = 1000,
        maxWriteBatchCount: Int = 256
    ) {
        self.quotaBytes = quotaBytes
        self.readOnly = readOnly
        self.compactionBatchKeys = compactionBatchKeys
        self.maxWriteBatchCount = maxWriteBatchCount
    }

    /// The LMDB map is larger than the quota so that deletes, compaction and defragmentation
    /// still have room when puts have hit it, as etcd lets bbolt grow past its quota.
    var mapSizeBytes: Int {
        let headroom = max(quotaBytes / 4, 64 << 20)
        let pageSize = 4096
        return (quotaBytes + headroom + pageSize - 1) / pageSize * pageSize
    }
}
