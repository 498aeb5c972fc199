import CLMDB

/// The changes of one write transaction: everything done through it becomes visible and
/// durable together, at one new store revision (allocated by the first change; a transaction
/// that changes nothing leaves the revision alone, as in etcd).
///
/// Only ``MVCCStore/write(_:)`` and ``MVCCStore/apply(index:term:_:)`` create one, on the
/// store's writer thread; it cannot outlive their closure.
public struct WriteTransaction: ~Copyable {
    let reader: MVCCReader
    /// The store revision before this transaction.
    let beginRevision: Int64
    /// How many changes so far; the next change gets sub-revision `changes`.
    private(set) var changes: Int64 = 0

    /// LMDB's compile-time key limit (`MDB_MAXKEYSIZE`), which bounds etcd keys here.
    public static let maxKeySizeBytes = 511

    init(txn: LMDBTransaction, environment: LMDBEnvironment) throws(StorageError) {
        reader = MVCCReader(txn: txn, databases: environment.databases)
        beginRevision = try reader.currentRevision
    }

    var txn: LMDBTransaction { reader.txn }
    var databases: LMDBEnvironment.Databases { reader.databases }

    /// The store revision as this transaction sees it: the new revision once it has changed
    /// anything (etcd's header revision for responses inside a txn).
    public var revision: Int64 { beginRevision + (changes > 0 ? 1 : 0) }

    private mutating func nextRevision() -> Revision {
        defer { changes += 1 }
        return Revision(main: beginRevision + 1, sub: changes)
    }

    /// Writes the meta values that must commit with the data: the new revision and, for an
    /// applied raft entry, its index and term.
    func finish(appliedIndex: (index: UInt64, term: UInt64)?) throws(StorageError) {
        if changes > 0 { try setMeta(.revision, beginRevision + 1) }
        if let appliedIndex {
            try setMeta(.consistentIndex, Int64(bitPattern: appliedIndex.index))
            try setMeta(.term, Int64(bitPattern: appliedIndex.term))
        }
    }

    func setMeta(_ key: MetaKey, _ value: Int64) throws(StorageError) {
        var writer = ByteWriter(capacity: 8)
        writer.write(value)
        try txn.put(databases.meta, key.key, writer.bytes)
    }

    private static func checkKey(_ key: [UInt8]) throws(StorageError) {
        if key.isEmpty { throw StorageError(.invalidArgument, "etcdserver: key is not provided") }
        if key.count > maxKeySizeBytes {
            throw StorageError(
                .keyTooLarge,
                "key \(MVCCReader.describe(key)) is \(key.count) bytes; cairn's backend indexes keys up to \(maxKeySizeBytes) bytes")
        }
    }

    // MARK: reads

    /// A range read that sees this transaction's earlier changes.
    public func range(_ request: RangeRequest) throws(StorageError) -> RangeResponse {
        try reader.range(request, headerRevision: revision)
    }

    private func liveKeyValue(_ key: [UInt8]) throws(StorageError) -> KeyValue? {
        try txn.withCursor(databases.index) { cursor throws(StorageError) in
            try reader.keyValue(key, at: beginRevision + 1, cursor: cursor)
        }
    }

    // MARK: key-value writes

    public mutating func put(_ request: PutRequest) throws(StorageError) -> PutResponse {
        try Self.checkKey(request.key)
        if request.ignoreValue, !request.value.isEmpty { throw StorageError.valueProvided }
        if request.ignoreLease, request.lease != 0 { throw StorageError.leaseProvided }
        let previous = try liveKeyValue(request.key)
        if request.ignoreValue || request.ignoreLease, previous == nil { throw StorageError.keyNotFound }
        let lease = request.ignoreLease ? previous!.lease : request.lease
        if lease != 0, try reader.lease(lease) == nil { throw StorageError.leaseNotFound }
        let revision = nextRevision()
        let kv = KeyValue(
            key: request.key,
            createRevision: previous?.createRevision ?? revision.main,
            modRevision: revision.main,
            version: (previous?.version ?? 0) + 1,
            value: request.ignoreValue ? previous!.value : request.value,
            lease: lease)
        try record(StoredRecord(keyValue: kv, isTombstone: false), at: revision)
        if previous?.lease != lease {
            try detach(request.key, from: previous?.lease ?? 0)
            if lease != 0 {
                try txn.put(databases.leaseKeys, LeaseRecord.encode(id: lease), request.key)
            }
        }
        return PutResponse(revision: revision.main, prevKV: request.prevKV ? previous : nil)
    }

    public mutating func deleteRange(_ request: DeleteRangeRequest) throws(StorageError) -> DeleteRangeResponse {
        var doomed: [KeyValue] = []
        try reader.forEachLiveKey(in: KeyRange(key: request.key, rangeEnd: request.rangeEnd), at: beginRevision + 1) {
            _, entry throws(StorageError) in
            doomed.append(try reader.record(at: entry.revision).keyValue)
            return true
        }
        for kv in doomed {
            try delete(kv)
        }
        return DeleteRangeResponse(revision: revision, deleted: Int64(doomed.count), prevKVs: request.prevKV ? doomed : [])
    }

    private mutating func delete(_ kv: KeyValue) throws(StorageError) {
        let revision = nextRevision()
        try record(StoredRecord(keyValue: KeyValue(key: kv.key, modRevision: revision.main), isTombstone: true), at: revision)
        try detach(kv.key, from: kv.lease)
    }

    private func record(_ record: StoredRecord, at revision: Revision) throws(StorageError) {
        try txn.put(databases.kv, revision.encoded, record.encoded, flags: UInt32(MDB_APPEND))
        try txn.put(databases.index, record.keyValue.key, IndexEntry(revision: revision, isTombstone: record.isTombstone).encoded)
    }

    private func detach(_ key: [UInt8], from lease: Int64) throws(StorageError) {
        guard lease != 0 else { return }
        try txn.delete(databases.leaseKeys, LeaseRecord.encode(id: lease), value: key)
    }

    // MARK: transactions

    /// Which branch each txn takes, decided before any of its operations run.
    private struct Path {
        var succeeded: Bool
        /// The paths of the nested txns in the chosen branch, in order.
        var nested: [Path]
    }

    /// etcd evaluates every compare, nested ones included, against the state before the txn.
    private func choosePath(_ request: TxnRequest) throws(StorageError) -> Path {
        var succeeded = true
        for compare in request.compare {
            let kvs = try reader.range(RangeRequest(key: compare.key, rangeEnd: compare.rangeEnd), headerRevision: revision).kvs
            if !compare.holds(for: kvs) {
                succeeded = false
                break
            }
        }
        var nested: [Path] = []
        for op in succeeded ? request.success : request.failure {
            if case .txn(let inner) = op { nested.append(try choosePath(inner)) }
        }
        return Path(succeeded: succeeded, nested: nested)
    }

    public mutating func txn(_ request: TxnRequest) throws(StorageError) -> TxnResponse {
        try execute(request, path: choosePath(request))
    }

    private mutating func execute(_ request: TxnRequest, path: Path) throws(StorageError) -> TxnResponse {
        var responses: [ResponseOp] = []
        var nested = path.nested.makeIterator()
        for op in path.succeeded ? request.success : request.failure {
            switch op {
            case .range(let range): responses.append(.range(try self.range(range)))
            case .put(let put): responses.append(.put(try self.put(put)))
            case .deleteRange(let delete): responses.append(.deleteRange(try deleteRange(delete)))
            case .txn(let inner):
                guard let innerPath = nested.next() else { preconditionFailure("txn path has fewer nested paths than nested txns") }
                responses.append(.txn(try execute(inner, path: innerPath)))
            }
        }
        return TxnResponse(revision: revision, succeeded: path.succeeded, responses: responses)
    }

    // MARK: compaction

    /// Makes history before `revision` unreadable at once; the store removes the old versions
    /// in the background, in small transactions, after this one commits.
    public func compact(revision target: Int64) throws(StorageError) {
        if target <= (try reader.compactRevision) { throw StorageError.compacted }
        if target > revision { throw StorageError.futureRevision }
        try setMeta(.compactRevision, target)
    }

    // MARK: leases

    public func grantLease(_ lease: LeaseRecord) throws(StorageError) {
        guard lease.id != 0 else { throw StorageError(.invalidArgument, "lease id 0 means no lease and cannot be granted") }
        if try reader.lease(lease.id) != nil { throw StorageError.leaseExists }
        try txn.put(databases.lease, lease.encodedID, lease.encodedValue)
    }

    /// Records the leader's view of a lease's remaining TTL (0: the full TTL again); a lease
    /// revoked meanwhile is skipped. Returns whether the lease exists.
    @discardableResult
    public func checkpointLease(id: Int64, remainingSeconds: Int64) throws(StorageError) -> Bool {
        guard var lease = try reader.lease(id) else { return false }
        lease.remainingSeconds = max(0, remainingSeconds)
        try txn.put(databases.lease, lease.encodedID, lease.encodedValue)
        return true
    }

    /// Deletes the lease and every key attached to it (at one revision); returns those keys.
    @discardableResult
    public mutating func revokeLease(id: Int64) throws(StorageError) -> [[UInt8]] {
        guard try reader.lease(id) != nil else { throw StorageError.leaseNotFound }
        let keys = try reader.keys(attachedTo: id)
        for key in keys {
            guard let kv = try liveKeyValue(key) else {
                throw StorageError(.backend, "lease \(id) lists key \(MVCCReader.describe(key)) which is not live in \(txn.path)")
            }
            try delete(kv)
        }
        try txn.delete(databases.lease, LeaseRecord.encode(id: id))
        return keys
    }

    // MARK: members and meta

    public func members() throws(StorageError) -> [MemberRecord] {
        try reader.members()
    }

    public func putMember(_ member: MemberRecord) throws(StorageError) {
        try txn.put(databases.member, member.encodedID, member.encodedValue)
    }

    /// Returns whether the member was there.
    @discardableResult
    public func removeMember(id: UInt64) throws(StorageError) -> Bool {
        try txn.delete(databases.member, MemberRecord.encode(id: id))
    }

    // MARK: alarms

    /// The active alarms, as this transaction sees them.
    public func alarms() throws(StorageError) -> [AlarmRecord] {
        try reader.alarms()
    }

    /// Raises `alarm`; returns whether it was not already active. Alarms take no quota: the
    /// NOSPACE alarm must be raisable when the database is full.
    @discardableResult
    public func activate(_ alarm: AlarmRecord) throws(StorageError) -> Bool {
        if try reader.isActive(alarm) { return false }
        try txn.put(databases.alarm, alarm.encodedKey, [])
        return true
    }

    /// Clears `alarm`; returns whether it was active.
    @discardableResult
    public func deactivate(_ alarm: AlarmRecord) throws(StorageError) -> Bool {
        try txn.delete(databases.alarm, alarm.encodedKey)
    }

    public func setClusterID(_ id: UInt64) throws(StorageError) {
        try setMeta(.clusterID, Int64(bitPattern: id))
    }
}
