import CLMDB

/// The read side of the MVCC model over one LMDB transaction. Read transactions use it
/// directly; ``WriteTransaction`` uses it so reads inside a write see that write's changes.
struct MVCCReader {
    let txn: LMDBTransaction
    let databases: LMDBEnvironment.Databases

    // MARK: meta

    /// The meta value under `key`, or `absent` when it has never been written.
    func meta(_ key: MetaKey, absent: Int64 = 0) throws(StorageError) -> Int64 {
        guard let bytes = try txn.get(databases.meta, key.key) else { return absent }
        let value: Int64? = bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard let value = reader.readInt64(), reader.isAtEnd else { return nil }
            return value
        }
        guard let value else {
            throw StorageError(.backend, "meta value \(key.rawValue) in \(txn.path) is \(bytes.count) bytes, expected 8")
        }
        return value
    }

    /// etcd's store starts at revision 1, not 0: an empty etcd answers with header revision 1
    /// and its first write gets 2. Clients rely on it (Kubernetes reads resourceVersion "0" as
    /// "any"), so a fresh store is at 1 without anything written.
    static let initialRevision: Int64 = 1

    var currentRevision: Int64 { get throws(StorageError) { try meta(.revision, absent: Self.initialRevision) } }
    var compactRevision: Int64 { get throws(StorageError) { try meta(.compactRevision) } }

    /// Resolves a requested revision (0 or less: current) and checks it is still readable.
    func readableRevision(_ requested: Int64, current: Int64) throws(StorageError) -> Int64 {
        if requested > current { throw StorageError.futureRevision }
        let revision = requested <= 0 ? current : requested
        if revision < (try compactRevision) { throw StorageError.compacted }
        return revision
    }

    // MARK: key versions

    /// The newest change to `key` strictly before `bound`, searched in the key's index
    /// duplicates with `cursor`.
    func latestEntry(_ key: [UInt8], before bound: Revision, cursor: LMDBCursor) throws(StorageError) -> IndexEntry? {
        let found: (key: [UInt8], value: [UInt8])?
        if try cursor.get(MDB_GET_BOTH_RANGE, key: key, value: IndexEntry(revision: bound, isTombstone: false).encoded) != nil {
            found = try cursor.get(MDB_PREV_DUP)
        } else if try cursor.get(MDB_SET_KEY, key: key) != nil {
            found = try cursor.get(MDB_LAST_DUP)
        } else {
            found = nil
        }
        guard let found else { return nil }
        return try decodeIndexEntry(found.value, key: key)
    }

    func decodeIndexEntry(_ bytes: [UInt8], key: [UInt8]) throws(StorageError) -> IndexEntry {
        guard let entry = IndexEntry(encoded: bytes) else {
            throw StorageError(.backend, "corrupt index entry for key \(Self.describe(key)) in \(txn.path)")
        }
        return entry
    }

    func record(at revision: Revision) throws(StorageError) -> StoredRecord {
        guard let bytes = try txn.get(databases.kv, revision.encoded) else {
            throw StorageError(.backend, "index names revision \(revision.main).\(revision.sub) but \(txn.path) has no record for it")
        }
        guard let record = StoredRecord(decoding: bytes) else {
            throw StorageError(.backend, "corrupt record at revision \(revision.main).\(revision.sub) in \(txn.path)")
        }
        return record
    }

    /// The live version of `key` at store revision `revision`, if any.
    func keyValue(_ key: [UInt8], at revision: Int64, cursor: LMDBCursor) throws(StorageError) -> KeyValue? {
        guard let entry = try latestEntry(key, before: Revision(main: revision + 1), cursor: cursor),
            !entry.isTombstone
        else { return nil }
        return try record(at: entry.revision).keyValue
    }

    /// Calls `visit` with every key of `range` that is live at `revision`, in key order, and
    /// the index entry of its version; `visit` returns false to stop.
    func forEachLiveKey(
        in range: KeyRange, at revision: Int64,
        _ visit: ([UInt8], IndexEntry) throws(StorageError) -> Bool
    ) throws(StorageError) {
        let keys = try txn.cursor(databases.index)
        defer { keys.close() }
        let versions = try txn.cursor(databases.index)
        defer { versions.close() }
        var current = try keys.get(MDB_SET_RANGE, key: range.start)
        while let (key, _) = current, !range.isPast(key) {
            if let entry = try latestEntry(key, before: Revision(main: revision + 1), cursor: versions),
                !entry.isTombstone
            {
                guard try visit(key, entry) else { return }
            }
            if range.isSingleKey { return }
            current = try keys.get(MDB_NEXT_NODUP)
        }
    }

    // MARK: range

    func range(_ request: RangeRequest, headerRevision: Int64) throws(StorageError) -> RangeResponse {
        let revision = try readableRevision(request.revision, current: headerRevision)
        let range = KeyRange(key: request.key, rangeEnd: request.rangeEnd)
        // etcd fetches one extra key to learn whether the limit cut anything off.
        let fetchLimit: Int64 = request.countOnly ? 0 : (request.limit > 0 && !request.needsAllKeys ? request.limit + 1 : .max)
        var count: Int64 = 0
        var kvs: [KeyValue] = []
        try forEachLiveKey(in: range, at: revision) { _, entry throws(StorageError) in
            count += 1
            if Int64(kvs.count) < fetchLimit {
                kvs.append(try record(at: entry.revision).keyValue)
            }
            return true
        }
        if request.maxModRevision != 0 { kvs.removeAll { $0.modRevision > request.maxModRevision } }
        if request.minModRevision != 0 { kvs.removeAll { $0.modRevision < request.minModRevision } }
        if request.maxCreateRevision != 0 { kvs.removeAll { $0.createRevision > request.maxCreateRevision } }
        if request.minCreateRevision != 0 { kvs.removeAll { $0.createRevision < request.minCreateRevision } }
        Self.sort(&kvs, order: request.sortOrder, target: request.sortTarget)
        var more = false
        if request.limit > 0, kvs.count > Int(request.limit) {
            kvs.removeLast(kvs.count - Int(request.limit))
            more = true
        }
        if request.keysOnly {
            for index in kvs.indices { kvs[index].value = [] }
        }
        return RangeResponse(revision: headerRevision, kvs: kvs, more: more, count: count)
    }

    /// etcd's ordering: a sort target other than the key implies ascending order; ties keep
    /// key order.
    static func sort(_ kvs: inout [KeyValue], order: RangeRequest.SortOrder, target: RangeRequest.SortTarget) {
        var order = order
        if order == .none, target != .key { order = .ascend }
        guard order != .none else { return }
        func precedes(_ lhs: KeyValue, _ rhs: KeyValue) -> Bool {
            switch target {
            case .key: lhs.key.lexicographicallyPrecedes(rhs.key)
            case .version: lhs.version < rhs.version
            case .create: lhs.createRevision < rhs.createRevision
            case .mod: lhs.modRevision < rhs.modRevision
            case .value: lhs.value.lexicographicallyPrecedes(rhs.value)
            }
        }
        // Swift's sort is not stable; sorting (target, position) keeps ties in key order.
        let ranked = kvs.enumerated().sorted { lhs, rhs in
            let forward = order == .ascend
            if precedes(lhs.element, rhs.element) { return forward }
            if precedes(rhs.element, lhs.element) { return !forward }
            return forward ? lhs.offset < rhs.offset : lhs.offset > rhs.offset
        }
        kvs = ranked.map(\.element)
    }

    // MARK: history

    /// The changes in revisions `[startRevision, endRevision]`, oldest first, at most `limit`.
    func events(
        from startRevision: Int64, through endRevision: Int64, limit: Int, includePrevKV: Bool
    ) throws(StorageError) -> [Event] {
        let records = try txn.cursor(databases.kv)
        defer { records.close() }
        let versions = try txn.cursor(databases.index)
        defer { versions.close() }
        var events: [Event] = []
        var current = try records.get(MDB_SET_RANGE, key: Revision(main: startRevision).encoded)
        while let (revisionBytes, value) = current, events.count < limit {
            guard let revision = Revision(encoded: revisionBytes), let record = StoredRecord(decoding: value) else {
                throw StorageError(.backend, "corrupt record in \(txn.path) while reading history from revision \(startRevision)")
            }
            if revision.main > endRevision { break }
            var event = Event(kind: record.isTombstone ? .delete : .put, kv: record.keyValue)
            if includePrevKV, let previous = try latestEntry(record.keyValue.key, before: revision, cursor: versions),
                !previous.isTombstone
            {
                event.prevKV = try self.record(at: previous.revision).keyValue
            }
            events.append(event)
            current = try records.get(MDB_NEXT)
        }
        return events
    }

    // MARK: hash

    /// A CRC-32C over every record a finished compaction at the compact revision would keep,
    /// up to `revision`, in revision order: the same on every member whatever its page
    /// layout and however far its physical compaction has got.
    func hash(upTo endRevision: Int64, compactRevision: Int64) throws(StorageError) -> UInt32 {
        let records = try txn.cursor(databases.kv)
        defer { records.close() }
        let versions = try txn.cursor(databases.index)
        defer { versions.close() }
        var crc = CRC32C()
        var current = try records.get(MDB_FIRST)
        while let (revisionBytes, value) = current {
            guard let revision = Revision(encoded: revisionBytes), let record = StoredRecord(decoding: value) else {
                throw StorageError(.backend, "corrupt record in \(txn.path) while hashing up to revision \(endRevision)")
            }
            if revision.main > endRevision { break }
            if try keepsAfterCompaction(record, at: revision, compactRevision: compactRevision, cursor: versions) {
                crc.update(revisionBytes)
                crc.update(value)
            }
            current = try records.get(MDB_NEXT)
        }
        return crc.value
    }

    /// Whether compaction at `compactRevision` keeps this record: everything after it, and
    /// the newest version at or before it unless that is a tombstone.
    func keepsAfterCompaction(
        _ record: StoredRecord, at revision: Revision, compactRevision: Int64, cursor: LMDBCursor
    ) throws(StorageError) -> Bool {
        if revision.main > compactRevision { return true }
        if record.isTombstone { return false }
        let newest = try latestEntry(record.keyValue.key, before: Revision(main: compactRevision + 1), cursor: cursor)
        return newest?.revision == revision
    }

    // MARK: leases and members

    func lease(_ id: Int64) throws(StorageError) -> LeaseRecord? {
        guard let bytes = try txn.get(databases.lease, LeaseRecord.encode(id: id)) else { return nil }
        guard let lease = LeaseRecord(id: id, encodedValue: bytes) else {
            throw StorageError(.backend, "corrupt lease \(id) in \(txn.path)")
        }
        return lease
    }

    func leases() throws(StorageError) -> [LeaseRecord] {
        try decodeAll(databases.lease, what: "lease") { idBytes, value in
            LeaseRecord(id: Int64(bitPattern: Self.decodeID(idBytes)), encodedValue: value)
        }
    }

    /// The keys attached to lease `id`, in key order.
    func keys(attachedTo id: Int64) throws(StorageError) -> [[UInt8]] {
        try txn.withCursor(databases.leaseKeys) { cursor throws(StorageError) in
            var keys: [[UInt8]] = []
            var current = try cursor.get(MDB_SET_KEY, key: LeaseRecord.encode(id: id))
            while let (_, key) = current {
                keys.append(key)
                current = try cursor.get(MDB_NEXT_DUP)
            }
            return keys
        }
    }

    func members() throws(StorageError) -> [MemberRecord] {
        try decodeAll(databases.member, what: "member") { idBytes, value in
            MemberRecord(id: Self.decodeID(idBytes), encodedValue: value)
        }
    }

    func alarms() throws(StorageError) -> [AlarmRecord] {
        try txn.withCursor(databases.alarm) { cursor throws(StorageError) in
            var alarms: [AlarmRecord] = []
            var current = try cursor.get(MDB_FIRST)
            while let (key, _) = current {
                guard let alarm = AlarmRecord(encodedKey: key) else {
                    throw StorageError(.backend, "corrupt alarm record \(key) in \(txn.path)")
                }
                alarms.append(alarm)
                current = try cursor.get(MDB_NEXT)
            }
            return alarms
        }
    }

    func isActive(_ alarm: AlarmRecord) throws(StorageError) -> Bool {
        try txn.get(databases.alarm, alarm.encodedKey) != nil
    }

    /// Every record of a database keyed by 8-byte big-endian ids, decoded in id order.
    private func decodeAll<Record>(
        _ dbi: MDB_dbi, what: String, _ decode: ([UInt8], [UInt8]) -> Record?
    ) throws(StorageError) -> [Record] {
        try txn.withCursor(dbi) { cursor throws(StorageError) in
            var records: [Record] = []
            var current = try cursor.get(MDB_FIRST)
            while let (idBytes, value) = current {
                guard idBytes.count == 8, let record = decode(idBytes, value) else {
                    throw StorageError(.backend, "corrupt \(what) record \(idBytes) in \(txn.path)")
                }
                records.append(record)
                current = try cursor.get(MDB_NEXT)
            }
            return records
        }
    }

    private static func decodeID(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// A key as an operator can read it in an error message.
    static func describe(_ key: [UInt8]) -> String {
        let text = String(decoding: key.prefix(64), as: UTF8.self)
        return key.count > 64 ? "\"\(text)…\"" : "\"\(text)\""
    }
}
