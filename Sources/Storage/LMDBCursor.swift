import CLMDB

/// A cursor over one LMDB database. Positioning calls return copies of the key and value
/// under the cursor, or `nil` when there is none.
struct LMDBCursor {
    let pointer: OpaquePointer
    let path: String

    static func copy(_ value: MDB_val) -> [UInt8] {
        guard value.mv_size > 0, let data = value.mv_data else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: data, count: value.mv_size))
    }

    /// Moves the cursor with `operation`; `key` and `value` are inputs for the positioning
    /// operations that need them (`MDB_SET_RANGE`, `MDB_GET_BOTH_RANGE`, …).
    func get(
        _ operation: MDB_cursor_op, key: [UInt8] = [], value: [UInt8] = []
    ) throws(StorageError) -> (key: [UInt8], value: [UInt8])? {
        var keyOut = MDB_val()
        var valueOut = MDB_val()
        let rc = key.withUnsafeBytes { keyRaw in
            value.withUnsafeBytes { valueRaw in
                var keyVal = MDB_val(mv_size: keyRaw.count, mv_data: UnsafeMutableRawPointer(mutating: keyRaw.baseAddress))
                var valueVal = MDB_val(mv_size: valueRaw.count, mv_data: UnsafeMutableRawPointer(mutating: valueRaw.baseAddress))
                let rc = mdb_cursor_get(pointer, &keyVal, &valueVal, operation)
                keyOut = keyVal
                valueOut = valueVal
                return rc
            }
        }
        if rc == MDB_NOTFOUND { return nil }
        try LMDBTransaction.check(rc, "cursor get", path: path)
        return (Self.copy(keyOut), Self.copy(valueOut))
    }

    /// Deletes the item under the cursor.
    func delete() throws(StorageError) {
        try LMDBTransaction.check(mdb_cursor_del(pointer, 0), "cursor delete", path: path)
    }

    func close() {
        mdb_cursor_close(pointer)
    }
}
