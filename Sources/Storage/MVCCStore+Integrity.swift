import CLMDB

/// What an integrity pass found in each of the backend's databases.
public struct RecordCounts: Sendable, Equatable {
    public var revisions = 0
    public var indexEntries = 0
    public var leases = 0
    public var members = 0
    public var alarms = 0
    public var lowestRevision: Int64 = 0
    public var highestRevision: Int64 = 0
}

extension MVCCStore {
    /// Reads every record of every database and decodes it; throws at the first one that does
    /// not decode, naming the database and the key.
    public func checkEveryRecord() throws(StorageError) -> RecordCounts {
        try read { reader throws(StorageError) in
            let (txn, databases) = (reader.txn, reader.databases)
            var counts = RecordCounts()
            func each(_ dbi: MDB_dbi, _ what: String, _ body: ([UInt8], [UInt8]) -> Bool) throws(StorageError) {
                try txn.withCursor(dbi) { cursor throws(StorageError) in
                    var current = try cursor.get(MDB_FIRST)
                    while let (key, value) = current {
                        guard body(key, value) else {
                            throw StorageError(.backend, "\(what) record \(MVCCReader.describe(key)) does not decode in \(txn.path)")
                        }
                        current = try cursor.get(MDB_NEXT)
                    }
                }
            }
            try each(databases.kv, "revision") { key, value in
                guard let revision = Revision(encoded: key), StoredRecord(decoding: value) != nil else { return false }
                if counts.revisions == 0 { counts.lowestRevision = revision.main }
                counts.highestRevision = revision.main
                counts.revisions += 1
                return true
            }
            try each(databases.index, "index") { _, value in
                counts.indexEntries += 1
                return IndexEntry(encoded: value) != nil
            }
            try each(databases.lease, "lease") { key, value in
                counts.leases += 1
                return key.count == 8 && LeaseRecord(id: 0, encodedValue: value) != nil
            }
            try each(databases.member, "member") { key, value in
                counts.members += 1
                return key.count == 8 && MemberRecord(id: 0, encodedValue: value) != nil
            }
            try each(databases.alarm, "alarm") { key, _ in
                counts.alarms += 1
                return AlarmRecord(encodedKey: key) != nil
            }
            return counts
        }
    }
}
