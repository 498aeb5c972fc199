/// etcd's backend data in a ``BoltFile``: the MVCC key history, leases, cluster members and the
/// bookkeeping in the `meta` bucket.
///
/// Bucket and key names and encodings, checked against etcd's source for 3.4 (v3.4.23:
/// `mvcc/kvstore.go`, `mvcc/revision.go`, `mvcc/kvstore_compaction.go`, `lease/lessor.go`,
/// `etcdserver/api/membership/store.go`) and 3.5 (v3.5.19: `server/mvcc/buckets/bucket.go`,
/// `server/etcdserver/cindex/cindex.go`, and the same files under `server/`):
/// - `key`: revision bytes (see ``EtcdKeyVersion``) → protobuf `mvccpb.KeyValue`.
/// - `lease`: 8-byte big-endian lease id → protobuf `leasepb.Lease`.
/// - `members`: member id as lowercase hex without padding (`types.ID.String()`) → member JSON.
/// - `meta`: `consistent_index` (8-byte big-endian; 3.4 and 3.5), `term` (8-byte big-endian;
///   written from 3.5 on), `scheduledCompactRev` and `finishedCompactRev` (17-byte revision bytes
///   whose sub revision is 0).
public struct EtcdBackend: Sendable {
    static let keyBucket = "key"
    static let leaseBucket = "lease"
    static let membersBucket = "members"
    static let metaBucket = "meta"

    /// The database being read.
    public let file: BoltFile

    /// Reads etcd's buckets from `file`.
    public init(file: BoltFile) {
        self.file = file
    }

    /// Calls `body` with every entry of the `key` bucket in revision order until it returns false.
    ///
    /// Throws ``BoltError`` (`corrupt`, with the key in hex) for a key that is not a revision.
    public func forEachKeyVersion(_ body: (EtcdKeyVersion) throws -> Bool) throws {
        try file.forEach(bucket: Self.keyBucket) { key, value in
            let (revision, isTombstone) = try Self.revision(key, file: file)
            return try body(EtcdKeyVersion(main: revision.main, sub: revision.sub, isTombstone: isTombstone, value: value))
        }
    }

    /// The highest main revision in the `key` bucket, read from its last entry without a scan;
    /// nil if the bucket is empty.
    ///
    /// etcd itself restores its current revision as the larger of this and the finished
    /// compaction revision, because a compaction can remove the newest entries (tombstones).
    public static func latestRevision(in file: BoltFile) throws -> Int64? {
        var latest: Int64?
        try file.forEach(bucket: keyBucket, reverse: true) { key, _ in
            latest = try revision(key, file: file).revision.main
            return false
        }
        return latest
    }

    /// ``latestRevision(in:)`` of this backend's file.
    public func latestRevision() throws -> Int64? {
        try Self.latestRevision(in: file)
    }

    /// Calls `body` with every lease id and its raw protobuf `leasepb.Lease` until it returns false.
    public func forEachLease(_ body: (_ id: Int64, _ value: [UInt8]) throws -> Bool) throws {
        try file.forEach(bucket: Self.leaseBucket) { key, value in
            guard key.count == 8 else {
                throw corrupt("bucket 'lease': key 0x\(hexString(key)) is not an 8-byte lease id")
            }
            return try body(Int64(bitPattern: EtcdRevision.bigEndian(key[...])), value)
        }
    }

    /// Calls `body` with every cluster member's id (hex, as etcd writes it) and JSON until it returns false.
    public func forEachMember(_ body: (_ idHex: String, _ json: [UInt8]) throws -> Bool) throws {
        try file.forEach(bucket: Self.membersBucket) { key, value in
            try body(String(decoding: key, as: UTF8.self), value)
        }
    }

    /// The raft index of the last entry applied to this backend; nil if never written.
    public func consistentIndex() throws -> UInt64? {
        try metaUInt64("consistent_index")
    }

    /// The raft term of the consistent index; nil before etcd 3.5, which started writing it.
    public func term() throws -> UInt64? {
        try metaUInt64("term")
    }

    /// The main revision of the last requested compaction; nil if none was ever requested.
    public func scheduledCompactRevision() throws -> Int64? {
        try metaRevision("scheduledCompactRev")
    }

    /// The main revision of the last completed compaction; nil if none completed.
    ///
    /// When it is lower than ``scheduledCompactRevision()``, etcd was stopped mid-compaction and
    /// finishes it on the next start.
    public func finishedCompactRevision() throws -> Int64? {
        try metaRevision("finishedCompactRev")
    }

    private func metaUInt64(_ name: String) throws -> UInt64? {
        guard let value = try file.value(forKey: Array(name.utf8), inBucket: Self.metaBucket) else { return nil }
        guard value.count == 8 else {
            throw corrupt("bucket 'meta': '\(name)' is \(value.count) bytes (0x\(hexString(value))), expected 8")
        }
        return EtcdRevision.bigEndian(value[...])
    }

    private func metaRevision(_ name: String) throws -> Int64? {
        guard let value = try file.value(forKey: Array(name.utf8), inBucket: Self.metaBucket) else { return nil }
        guard let (revision, _) = EtcdRevision.decode(value, allowTombstone: false) else {
            throw corrupt("bucket 'meta': '\(name)' value 0x\(hexString(value)) is not 17-byte revision bytes")
        }
        return revision.main
    }

    private static func revision(_ key: [UInt8], file: BoltFile) throws -> (revision: EtcdRevision, isTombstone: Bool) {
        guard let decoded = EtcdRevision.decode(key, allowTombstone: true) else {
            throw BoltError(
                code: .corrupt,
                message: "'\(file.path)': bucket 'key': key 0x\(hexString(key)) is not an etcd revision "
                    + "(8-byte main, '_', 8-byte sub, optional 't')")
        }
        return decoded
    }

    private func corrupt(_ what: String) -> BoltError {
        BoltError(code: .corrupt, message: "'\(file.path)': \(what)")
    }
}
