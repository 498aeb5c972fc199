import CLMDB

/// The writes a restore makes: a new identity over an existing key space, key versions copied
/// with their own revisions from another store (etcd's), and a revision moved forward.
extension WriteTransaction {
    /// Replaces the membership and cluster id, clears the alarms (they name the old members),
    /// and sets the applied raft index and term: the backend of a member founding a new
    /// cluster, whatever it held before.
    public func resetMembership(clusterID: UInt64, members: [MemberRecord], appliedIndex: UInt64, term: UInt64)
        throws(StorageError)
    {
        for member in try reader.members() { try removeMember(id: member.id) }
        for member in members { try putMember(member) }
        for alarm in try reader.alarms() { try deactivate(alarm) }
        try setClusterID(clusterID)
        try setMeta(.consistentIndex, Int64(bitPattern: appliedIndex))
        try setMeta(.term, Int64(bitPattern: term))
    }

    /// Appends a key version at its original `revision`, keeping its create revision, version
    /// and lease (a tombstone keeps only its key). Versions must come in increasing revision
    /// order, as etcd's key bucket lists them; the lease index follows the key's latest version.
    public func importVersion(_ kv: KeyValue, main: Int64, sub: Int64, isTombstone: Bool) throws(StorageError) {
        let revision = Revision(main: main, sub: sub)
        try Self.checkImportedKey(kv.key, at: revision)
        let previous = try txn.withCursor(databases.index) { cursor throws(StorageError) in
            try reader.latestEntry(kv.key, before: Revision(main: Int64.max), cursor: cursor)
        }
        if let previous, previous.revision >= revision {
            throw StorageError(.invalidArgument,
                "key \(MVCCReader.describe(kv.key)) at revision \(revision.main).\(revision.sub) comes after its version at \(previous.revision.main).\(previous.revision.sub)")
        }
        let previousLease = try previous.flatMap { entry throws(StorageError) in
            entry.isTombstone ? nil : try reader.record(at: entry.revision).keyValue.lease
        } ?? 0
        let stored = isTombstone ? KeyValue(key: kv.key, modRevision: revision.main) : kv
        try txn.put(databases.kv, revision.encoded, StoredRecord(keyValue: stored, isTombstone: isTombstone).encoded,
            flags: UInt32(MDB_APPEND))
        try txn.put(databases.index, kv.key, IndexEntry(revision: revision, isTombstone: isTombstone).encoded)
        let lease = isTombstone ? 0 : kv.lease
        if previousLease != lease {
            if previousLease != 0 { try txn.delete(databases.leaseKeys, LeaseRecord.encode(id: previousLease), value: kv.key) }
            if lease != 0 { try txn.put(databases.leaseKeys, LeaseRecord.encode(id: lease), kv.key) }
        }
    }

    private static func checkImportedKey(_ key: [UInt8], at revision: Revision) throws(StorageError) {
        if key.isEmpty {
            throw StorageError(.invalidArgument, "the version at revision \(revision.main).\(revision.sub) has an empty key")
        }
        if key.count > maxKeySizeBytes {
            throw StorageError(.keyTooLarge,
                "key \(MVCCReader.describe(key)) at revision \(revision.main) is \(key.count) bytes; cairn's backend indexes keys up to \(maxKeySizeBytes) bytes")
        }
    }

    /// Moves the store revision to `revision` (never back), so the next write gets the one
    /// after it; with `compact`, history below it becomes unreadable (etcd's
    /// `--bump-revision --mark-compacted`).
    public func advanceRevision(to revision: Int64, compact: Bool) throws(StorageError) {
        let current = try reader.currentRevision
        guard revision >= current else {
            throw StorageError(.invalidArgument, "cannot move the revision back from \(current) to \(revision)")
        }
        try setMeta(.revision, revision)
        if compact, revision > (try reader.compactRevision) { try setMeta(.compactRevision, revision) }
    }

    /// Sets the compact revision (history below it unreadable) without the checks a client's
    /// compaction gets: an imported store carries its source's compaction over.
    public func markCompacted(at revision: Int64) throws(StorageError) {
        guard revision > (try reader.compactRevision) else { return }
        try setMeta(.compactRevision, revision)
    }

    /// Every lease starts its full TTL again (the time a snapshot spent on a shelf is not
    /// held against the leases in it).
    public func refreshLeases() throws(StorageError) {
        for lease in try reader.leases() where lease.remainingSeconds != 0 {
            try checkpointLease(id: lease.id, remainingSeconds: 0)
        }
    }
}
