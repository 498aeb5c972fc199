import CLMDB

/// An open LMDB environment stored as a single file (`MDB_NOSUBDIR`) with the backend's
/// named databases. Not thread-safe by itself: ``MVCCStore`` serialises writers on one thread
/// and guards the environment's lifetime with a read-write lock.
final class LMDBEnvironment {
    /// The backend's sub-databases.
    struct Databases {
        /// revision (16 bytes big-endian) → ``StoredRecord``.
        var kv: MDB_dbi = 0
        /// user key → sorted, fixed-size duplicates of ``IndexEntry``.
        var index: MDB_dbi = 0
        /// lease id (8 bytes big-endian) → ``LeaseRecord`` encoding.
        var lease: MDB_dbi = 0
        /// lease id → sorted duplicates of the attached user keys.
        var leaseKeys: MDB_dbi = 0
        /// member id → ``MemberRecord`` encoding.
        var member: MDB_dbi = 0
        /// name → value, see ``MetaKey``.
        var meta: MDB_dbi = 0
        /// member id (8 bytes big-endian) + alarm type (4 bytes big-endian) → nothing: the
        /// active alarms, which survive restarts as etcd's do.
        var alarm: MDB_dbi = 0
        /// `u/` + user name → ``AuthUser`` encoding, `r/` + role name → ``AuthRole`` encoding.
        /// Absent (nil) only in a read-only copy made before cairn kept auth.
        var auth: MDB_dbi?

        var all: [MDB_dbi] { [kv, index, lease, leaseKeys, member, meta, alarm] + (auth.map { [$0] } ?? []) }
    }

    let pointer: OpaquePointer
    let path: String
    private(set) var databases = Databases()

    /// `MDB_NOMETASYNC` keeps every commit atomic and consistent but may undo the last commit
    /// after a power loss; the WAL replays it, which the consistent index makes idempotent.
    /// `MDB_NOTLS` lets read transactions move between threads, as async callers do.
    init(path: String, mapSizeBytes: Int, readOnly: Bool = false) throws(StorageError) {
        var env: OpaquePointer?
        try LMDBTransaction.check(mdb_env_create(&env), "env create", path: path)
        self.pointer = env!
        self.path = path
        do {
            try LMDBTransaction.check(mdb_env_set_maxdbs(pointer, 16), "set maxdbs", path: path)
            try LMDBTransaction.check(mdb_env_set_maxreaders(pointer, 1024), "set maxreaders", path: path)
            try LMDBTransaction.check(mdb_env_set_mapsize(pointer, mapSizeBytes), "set mapsize", path: path)
            var flags = UInt32(MDB_NOSUBDIR | MDB_NOTLS | MDB_NOMETASYNC)
            // A read-only open is for copies (snapshot files) that no server owns, so it takes no lock file.
            if readOnly { flags |= UInt32(MDB_RDONLY | MDB_NOLOCK) }
            try LMDBTransaction.check(mdb_env_open(pointer, path, flags, 0o600), "open", path: path)
            try openDatabases(create: !readOnly)
        } catch {
            mdb_env_close(pointer)
            throw error
        }
    }

    private func openDatabases(create: Bool) throws(StorageError) {
        let txn = create ? try beginWrite() : try beginRead()
        do {
            let createFlag = create ? UInt32(MDB_CREATE) : 0
            func open(_ name: String, _ flags: Int32 = 0) throws(StorageError) -> MDB_dbi {
                var dbi: MDB_dbi = 0
                try txn.check(mdb_dbi_open(txn.pointer, name, UInt32(flags) | createFlag, &dbi), "open database \(name)")
                return dbi
            }
            databases.kv = try open("kv")
            databases.index = try open("index", MDB_DUPSORT | MDB_DUPFIXED)
            databases.lease = try open("lease")
            databases.leaseKeys = try open("leasekeys", MDB_DUPSORT)
            databases.member = try open("member")
            databases.meta = try open("meta")
            databases.alarm = try open("alarm")
            var auth: MDB_dbi = 0
            let opened = mdb_dbi_open(txn.pointer, "auth", createFlag, &auth)
            if opened == MDB_NOTFOUND && !create {
                databases.auth = nil
            } else {
                try txn.check(opened, "open database auth")
                databases.auth = auth
            }
            try txn.commit()
        } catch {
            txn.abort()
            throw error
        }
    }

    func beginRead() throws(StorageError) -> LMDBTransaction {
        try begin(parent: nil, flags: UInt32(MDB_RDONLY))
    }

    /// A write transaction, nested inside `parent` when given (LMDB allows one child at a time).
    func beginWrite(parent: LMDBTransaction? = nil) throws(StorageError) -> LMDBTransaction {
        try begin(parent: parent, flags: 0)
    }

    private func begin(parent: LMDBTransaction?, flags: UInt32) throws(StorageError) -> LMDBTransaction {
        var txn: OpaquePointer?
        try LMDBTransaction.check(mdb_txn_begin(pointer, parent?.pointer, flags, &txn), "begin transaction", path: path)
        return LMDBTransaction(pointer: txn!, path: path)
    }

    /// The page size and the high-water mark of used pages: the file size LMDB needs, which
    /// is what etcd's quota compares against (bbolt's file size).
    func sizes() -> (pageSizeBytes: Int, usedPages: Int) {
        var info = MDB_envinfo()
        var stat = MDB_stat()
        mdb_env_info(pointer, &info)
        mdb_env_stat(pointer, &stat)
        return (Int(stat.ms_psize), info.me_last_pgno + 1)
    }

    /// Writes a compacted, consistent copy of the environment to `fd` while writers continue.
    func copy(to fd: Int32) throws(StorageError) {
        try LMDBTransaction.check(mdb_env_copyfd2(pointer, fd, UInt32(MDB_CP_COMPACT)), "copy to descriptor", path: path)
    }

    /// Flushes everything committed so far, including what `MDB_NOMETASYNC` left unsynced.
    func sync() throws(StorageError) {
        try LMDBTransaction.check(mdb_env_sync(pointer, 1), "sync", path: path)
    }

    func close() {
        mdb_env_close(pointer)
    }
}
