import CLMDB

/// One LMDB transaction (read-only or read-write). Values returned are copies, so they stay
/// valid after the transaction ends. A read-write transaction must begin, run and end on one
/// OS thread; the backend guarantees that by running writes on its dedicated writer thread.
struct LMDBTransaction {
    let pointer: OpaquePointer
    /// The database file, named in error messages.
    let path: String

    /// Maps an LMDB return code to a ``StorageError``; a full map is the NOSPACE condition.
    static func check(_ rc: Int32, _ operation: @autoclosure () -> String, path: String) throws(StorageError) {
        guard rc != MDB_SUCCESS else { return }
        if rc == MDB_MAP_FULL {
            throw StorageError.noSpace
        }
        let reason = String(cString: mdb_strerror(rc))
        throw StorageError(.backend, "LMDB \(operation()) failed on \(path): \(reason) (\(rc))")
    }

    func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(StorageError) {
        try Self.check(rc, operation(), path: path)
    }

    func get(_ dbi: MDB_dbi, _ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        var value = MDB_val()
        let rc = key.withUnsafeBytes { raw in
            var keyVal = MDB_val(mv_size: raw.count, mv_data: UnsafeMutableRawPointer(mutating: raw.baseAddress))
            return mdb_get(pointer, dbi, &keyVal, &value)
        }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "get")
        return LMDBCursor.copy(value)
    }

    func put(_ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8], flags: UInt32 = 0) throws(StorageError) {
        let rc = key.withUnsafeBytes { keyRaw in
            value.withUnsafeBytes { valueRaw in
                var keyVal = MDB_val(mv_size: keyRaw.count, mv_data: UnsafeMutableRawPointer(mutating: keyRaw.baseAddress))
                var valueVal = MDB_val(mv_size: valueRaw.count, mv_data: UnsafeMutableRawPointer(mutating: valueRaw.baseAddress))
                return mdb_put(pointer, dbi, &keyVal, &valueVal, flags)
            }
        }
        try check(rc, "put")
    }

    /// Deletes `key` (or only its duplicate `value` in a sorted-duplicates database); returns
    /// whether anything was there.
    @discardableResult
    func delete(_ dbi: MDB_dbi, _ key: [UInt8], value: [UInt8]? = nil) throws(StorageError) -> Bool {
        let rc = key.withUnsafeBytes { keyRaw in
            var keyVal = MDB_val(mv_size: keyRaw.count, mv_data: UnsafeMutableRawPointer(mutating: keyRaw.baseAddress))
            guard let value else { return mdb_del(pointer, dbi, &keyVal, nil) }
            return value.withUnsafeBytes { valueRaw in
                var valueVal = MDB_val(mv_size: valueRaw.count, mv_data: UnsafeMutableRawPointer(mutating: valueRaw.baseAddress))
                return mdb_del(pointer, dbi, &keyVal, &valueVal)
            }
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "delete")
        return true
    }

    func cursor(_ dbi: MDB_dbi) throws(StorageError) -> LMDBCursor {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(pointer, dbi, &cursor), "cursor open")
        return LMDBCursor(pointer: cursor!, path: path)
    }

    /// Runs `body` with a cursor that is closed afterwards, whatever happens.
    func withCursor<T>(_ dbi: MDB_dbi, _ body: (LMDBCursor) throws(StorageError) -> T) throws(StorageError) -> T {
        let cursor = try self.cursor(dbi)
        defer { cursor.close() }
        return try body(cursor)
    }

    /// Pages used by one database's B-tree.
    func pageCount(_ dbi: MDB_dbi) throws(StorageError) -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(pointer, dbi, &stat), "stat")
        return stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages
    }

    func commit() throws(StorageError) {
        try check(mdb_txn_commit(pointer), "commit")
    }

    func abort() {
        mdb_txn_abort(pointer)
    }
}
