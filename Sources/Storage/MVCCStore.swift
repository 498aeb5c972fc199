#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLMDB
import Dispatch

/// etcd's multi-version key-value store on LMDB: revisions, key versions, tombstones,
/// compaction, leases, members and the meta values (consistent index, term, cluster id).
///
/// Reads run on the caller's thread in an LMDB read transaction (a consistent snapshot).
/// Writes run on one dedicated thread; concurrent writes are committed together, each in its
/// own nested transaction so one failing write does not undo the others. Call ``close()``
/// when done: the writer thread keeps the store alive until then.
public final class MVCCStore: @unchecked Sendable {
    /// The LMDB file (its lock file is `path` + `-lock`).
    public let path: String
    public let options: MVCCOptions

    /// Guards `environment`: shared for every transaction, exclusive to swap or close it.
    private let lock = ReadWriteLock()
    private var environment: LMDBEnvironment?
    private var worker: BatchWorker<WriteJob>?

    // Touched only on the writer thread (or after it has stopped).
    private var compactionNextKey: [UInt8]?
    private var compactionPassRevision: Int64 = 0
    private var compactionQueued = false
    private var compactionWaiters: [@Sendable (Result<Void, StorageError>) -> Void] = []

    private enum WriteJob: Sendable {
        case transaction(TransactionJob)
        case compactionStep
        case awaitCompaction(@Sendable (Result<Void, StorageError>) -> Void)
        case defragment(@Sendable (Result<Void, StorageError>) -> Void)
        case replace(path: String, @Sendable (Result<Void, StorageError>) -> Void)
        case hold(held: @Sendable () -> Void, release: DispatchSemaphoreBox)
    }

    private struct TransactionJob: Sendable {
        /// Runs inside the job's nested transaction; on success returns what to do once the
        /// whole batch has committed.
        let run: @Sendable (LMDBTransaction, LMDBEnvironment) -> Result<@Sendable () -> Void, any Error>
        let fail: @Sendable (any Error) -> Void
    }

    private var closedError: StorageError { StorageError(.closed, "the store at \(path) is closed") }

    /// Opens (creating if needed) the store in the file at `path`, and resumes a compaction
    /// that a crash interrupted.
    public init(path: String, options: MVCCOptions = MVCCOptions()) throws(StorageError) {
        self.path = path
        self.options = options
        environment = try LMDBEnvironment(path: path, mapSizeBytes: options.mapSizeBytes, readOnly: options.readOnly)
        guard !options.readOnly else { return }
        // A defragmentation the process did not live to swap in left its copy behind.
        unlink(defragmentPath)
        worker = BatchWorker(name: "cairn-mvcc-writer", maxBatchCount: options.maxWriteBatchCount) { [self] jobs in
            process(jobs)
        }
        scheduleCompactionIfNeeded()
    }

    /// Finishes queued writes, stops the writer thread and closes the file. Reads and writes
    /// after this fail with ``StorageError/Code/closed``.
    public func close() {
        worker?.close()
        lock.withWriteLock {
            environment?.close()
            environment = nil
        }
        let waiters = compactionWaiters
        compactionWaiters = []
        waiters.forEach { $0(.failure(closedError)) }
    }

    // MARK: reads

    func read<T>(_ body: (MVCCReader) throws(StorageError) -> T) throws(StorageError) -> T {
        try lock.withReadLock { () throws(StorageError) -> T in
            guard let environment else { throw closedError }
            let txn = try environment.beginRead()
            defer { txn.abort() }
            return try body(MVCCReader(txn: txn, databases: environment.databases))
        }
    }

    /// etcd's Range: keys of a range at a revision, with limit, sorting, filters and counting.
    public func range(_ request: RangeRequest) throws(StorageError) -> RangeResponse {
        try read { reader throws(StorageError) in try reader.range(request, headerRevision: reader.currentRevision) }
    }

    /// The changes in revisions `[startRevision, endRevision]` (oldest first, at most `limit`),
    /// for watchers catching up. Fails with "compacted" when `startRevision` is below the
    /// compact revision, since the history there is incomplete.
    public func events(
        from startRevision: Int64, through endRevision: Int64 = .max, limit: Int = .max, includePrevKV: Bool = false
    ) throws(StorageError) -> [Event] {
        try read { reader throws(StorageError) in
            if startRevision < (try reader.compactRevision) { throw StorageError.compacted }
            return try reader.events(from: startRevision, through: endRevision, limit: limit, includePrevKV: includePrevKV)
        }
    }

    /// The content hash of the history up to `revision` (0: current), with the key count there.
    public func hashKV(revision requested: Int64 = 0) throws(StorageError) -> KVHash {
        try read { reader throws(StorageError) in
            let current = try reader.currentRevision
            let revision = try reader.readableRevision(requested, current: current)
            let compactRevision = try reader.compactRevision
            let count = try reader.range(
                RangeRequest(key: [0], rangeEnd: [0], revision: revision, countOnly: true), headerRevision: current
            ).count
            return KVHash(
                hash: try reader.hash(upTo: revision, compactRevision: compactRevision),
                revision: revision, compactRevision: compactRevision, keyCount: count)
        }
    }

    public func lease(id: Int64) throws(StorageError) -> LeaseRecord? {
        try read { reader throws(StorageError) in try reader.lease(id) }
    }

    public func leases() throws(StorageError) -> [LeaseRecord] {
        try read { reader throws(StorageError) in try reader.leases() }
    }

    /// The keys attached to lease `id`, in key order.
    public func keys(attachedTo id: Int64) throws(StorageError) -> [[UInt8]] {
        try read { reader throws(StorageError) in try reader.keys(attachedTo: id) }
    }

    public func members() throws(StorageError) -> [MemberRecord] {
        try read { reader throws(StorageError) in try reader.members() }
    }

    /// The active alarms, by member then type.
    public func alarms() throws(StorageError) -> [AlarmRecord] {
        try read { reader throws(StorageError) in try reader.alarms() }
    }

    public func status() throws(StorageError) -> StoreStatus {
        try lock.withReadLock { () throws(StorageError) -> StoreStatus in
            guard let environment else { throw closedError }
            let txn = try environment.beginRead()
            defer { txn.abort() }
            let reader = MVCCReader(txn: txn, databases: environment.databases)
            let sizes = environment.sizes()
            var pagesInUse = 2  // LMDB's two meta pages
            for dbi in [cairn_mdb_free_dbi(), cairn_mdb_main_dbi()] + environment.databases.all {
                pagesInUse += try txn.pageCount(dbi)
            }
            return StoreStatus(
                revision: try reader.currentRevision,
                compactRevision: try reader.compactRevision,
                consistentIndex: UInt64(bitPattern: try reader.meta(.consistentIndex)),
                term: UInt64(bitPattern: try reader.meta(.term)),
                clusterID: UInt64(bitPattern: try reader.meta(.clusterID)),
                sizeBytes: sizes.usedPages * sizes.pageSizeBytes,
                sizeInUseBytes: pagesInUse * sizes.pageSizeBytes,
                quotaBytes: options.quotaBytes)
        }
    }

    /// What a change costs against the quota beyond its key and value: the revision record's
    /// fields and the index entry.
    public static let writeOverheadBytes = 96

    /// Whether writing about `costBytes` more keeps the database under its quota (etcd's
    /// `quota.Available`). The server asks before proposing a write, never while applying
    /// one: every member must apply the same log the same way, whatever its file size.
    public func hasRoom(forBytes costBytes: Int) throws(StorageError) -> Bool {
        try lock.withReadLock { () throws(StorageError) -> Bool in
            guard let environment else { throw closedError }
            let sizes = environment.sizes()
            return sizes.usedPages * sizes.pageSizeBytes + costBytes + Self.writeOverheadBytes <= options.quotaBytes
        }
    }

    // MARK: writes

    /// Runs `body` as one write transaction on the writer thread and returns its result once
    /// committed. If `body` throws, none of its changes happen and its error is rethrown; the
    /// store's own failures are ``StorageError``s.
    @discardableResult
    public func write<T: Sendable>(
        _ body: @escaping @Sendable (inout WriteTransaction) throws -> T
    ) async throws -> T {
        return try await enqueue { txn, environment in
            var transaction = try WriteTransaction(txn: txn, environment: environment)
            let value = try body(&transaction)
            try transaction.finish(appliedIndex: nil)
            return value
        }
    }

    /// Applies raft entry `index` (of `term`) at most once: returns `nil` without running
    /// `body` when the store already holds entry `index`, so replaying the WAL after a crash
    /// is harmless. The entry's index commits in the same transaction as its changes. If
    /// `body` throws, its changes are dropped but the entry still counts as applied (a
    /// rejected request is still a committed entry, as in etcd), and the error is rethrown.
    @discardableResult
    public func apply<T: Sendable>(
        index: UInt64, term: UInt64, _ body: @escaping @Sendable (inout WriteTransaction) throws -> T
    ) async throws -> T? {
        let outcome: Result<T, any Error>? = try await enqueue { txn, environment in
            try Self.applyOne(index: index, term: term, body, in: txn, environment: environment)
        }
        return try outcome?.get()
    }

    /// One applied log entry of a batch: its raft index and term, and what it does.
    public struct AppliedEntry<T: Sendable>: Sendable {
        public var index: UInt64
        public var term: UInt64
        public var body: @Sendable (inout WriteTransaction) throws -> T

        public init(index: UInt64, term: UInt64, body: @escaping @Sendable (inout WriteTransaction) throws -> T) {
            self.index = index
            self.term = term
            self.body = body
        }
    }

    /// ``apply(index:term:_:)`` for several entries in log order, in one commit (one sync)
    /// instead of one each: each entry still runs in its own nested transaction, sees the ones
    /// before it, and fails alone. nil for an entry the store had applied already.
    public func apply<T: Sendable>(_ entries: [AppliedEntry<T>]) async throws -> [Result<T, any Error>?] {
        guard !entries.isEmpty else { return [] }
        return try await enqueue { txn, environment in
            try entries.map { entry in
                try Self.applyOne(index: entry.index, term: entry.term, entry.body, in: txn, environment: environment)
            }
        }
    }

    /// Runs `body` in a transaction nested in `txn` and records `index` as applied with it; a
    /// request that fails is recorded as applied without its changes. Throws only when the
    /// backend itself fails.
    private static func applyOne<T>(
        index: UInt64, term: UInt64, _ body: (inout WriteTransaction) throws -> T, in txn: LMDBTransaction,
        environment: LMDBEnvironment
    ) throws -> Result<T, any Error>? {
        let reader = MVCCReader(txn: txn, databases: environment.databases)
        if UInt64(bitPattern: try reader.meta(.consistentIndex)) >= index { return nil }
        let inner = try environment.beginWrite(parent: txn)
        do {
            var transaction = try WriteTransaction(txn: inner, environment: environment)
            let value = try body(&transaction)
            try transaction.finish(appliedIndex: (index, term))
            try inner.commit()
            return .success(value)
        } catch {
            inner.abort()
            // A failing disk or LMDB is not a verdict on the request: do not mark it applied.
            if let storageError = error as? StorageError, storageError.code == .backend { throw storageError }
            try WriteTransaction(txn: txn, environment: environment).finish(appliedIndex: (index, term))
            return .failure(error)
        }
    }

    private func enqueue<T: Sendable>(
        _ run: @escaping @Sendable (LMDBTransaction, LMDBEnvironment) throws -> T
    ) async throws -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
            let job = TransactionJob(
                run: { txn, environment in
                    do {
                        let value = try run(txn, environment)
                        return .success({ continuation.resume(returning: .success(value)) })
                    } catch {
                        return .failure(error)
                    }
                },
                fail: { continuation.resume(returning: .failure($0)) })
            submit(.transaction(job))
        }
        return try result.get()
    }

    private func submit(_ job: WriteJob) {
        if let worker, worker.submit(job) { return }
        let error = options.readOnly ? StorageError(.closed, "the store at \(path) is open read-only") : closedError
        switch job {
        case .transaction(let transaction): transaction.fail(error)
        case .awaitCompaction(let done), .defragment(let done), .replace(_, let done): done(.failure(error))
        case .hold(let held, _): held()
        case .compactionStep: break
        }
    }

    /// Waits until the old versions below the compact revision are physically gone (etcd's
    /// `physical` compaction).
    public func waitForCompaction() async throws(StorageError) {
        try await awaitJob { .awaitCompaction($0) }
    }

    /// Rewrites the database into a compact copy and swaps it in, returning free pages to the
    /// file system. Writes wait meanwhile; reads wait only for the swap.
    public func defragment() async throws(StorageError) {
        try await awaitJob { .defragment($0) }
    }

    /// Replaces the whole database with the store file at `file` (a raft snapshot received
    /// from the leader, already durable), which is moved into place. Writes queued before it
    /// land in the old database and are lost with it, as the snapshot supersedes them.
    public func replace(withFileAt file: String) async throws(StorageError) {
        try await awaitJob { .replace(path: file, $0) }
    }

    /// Holds every write (and compaction) while `start` runs with the store's status, so that
    /// a reader `start` begins — a copy's read transaction — sees exactly that state. `start`
    /// must return as soon as its reader has begun: writers wait meanwhile.
    public func withWritesHeld<T>(_ start: (StoreStatus) throws -> T) async throws -> T {
        let release = DispatchSemaphoreBox()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            submit(.hold(held: { continuation.resume() }, release: release))
        }
        defer { release.signal() }
        return try start(try status())
    }

    private func awaitJob(_ job: (@escaping @Sendable (Result<Void, StorageError>) -> Void) -> WriteJob) async throws(StorageError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StorageError>, Never>) in
            submit(job { continuation.resume(returning: $0) })
        }
        try result.get()
    }

    /// Writes a consistent, compacted copy of the database to `fd` while writes continue (for
    /// snapshots; `fd` may be a pipe). Blocks the calling thread until the copy is written.
    public func copy(to fd: Int32) throws(StorageError) {
        try lock.withReadLock { () throws(StorageError) in
            guard let environment else { throw closedError }
            try environment.copy(to: fd)
        }
    }

    /// Makes every committed write durable, including the last ones that `MDB_NOMETASYNC`
    /// leaves to the next commit; call before releasing WAL segments the store now covers.
    public func sync() throws(StorageError) {
        try lock.withReadLock { () throws(StorageError) in
            guard let environment else { throw closedError }
            try environment.sync()
        }
    }

    // MARK: writer thread

    private func process(_ jobs: [WriteJob]) {
        var group: [TransactionJob] = []
        for job in jobs {
            if case .transaction(let transaction) = job {
                group.append(transaction)
                continue
            }
            if !group.isEmpty {
                commit(group)
                group = []
            }
            switch job {
            case .transaction: preconditionFailure("transactions are grouped above")
            case .compactionStep: compactionStep()
            case .awaitCompaction(let done): awaitCompaction(done)
            case .defragment(let done): done(defragmentNow())
            case .replace(let file, let done): done(replaceNow(with: file))
            case .hold(let held, let release):
                held()
                release.wait()
            }
        }
        if !group.isEmpty { commit(group) }
        scheduleCompactionIfNeeded()
    }

    private func commit(_ jobs: [TransactionJob]) {
        var committed: [(job: TransactionJob, complete: @Sendable () -> Void)] = []
        var failed: [(job: TransactionJob, error: any Error)] = []
        let batchError: StorageError? = lock.withReadLock {
            guard let environment else { return closedError }
            let parent: LMDBTransaction
            do throws(StorageError) { parent = try environment.beginWrite() } catch { return error }
            for job in jobs {
                do throws(StorageError) {
                    let child = try environment.beginWrite(parent: parent)
                    switch job.run(child, environment) {
                    case .success(let complete):
                        try child.commit()
                        committed.append((job, complete))
                    case .failure(let error):
                        child.abort()
                        failed.append((job, error))
                    }
                } catch {
                    failed.append((job, error))
                }
            }
            Failpoint.crashBeforeBackendCommit.crashIfArmed()
            if Failpoint.failBackendCommit.fireOnce() {
                parent.abort()
                return StorageError(.backend, "failpoint \(Failpoint.failBackendCommit.rawValue): the batch's commit failed")
            }
            let commitStarted = ContinuousClock.now
            do throws(StorageError) { try parent.commit() } catch { return error }
            StorageMetrics.backendCommit.observe(ContinuousClock.now - commitStarted)
            Failpoint.crashAfterBackendCommit.crashIfArmed()
            return nil
        }
        if let batchError {
            committed.forEach { $0.job.fail(batchError) }
        } else {
            committed.forEach { $0.complete() }
        }
        failed.forEach { $0.job.fail($0.error) }
    }

    /// Queues a compaction step when a compact revision is ahead of the finished one.
    private func scheduleCompactionIfNeeded() {
        guard !compactionQueued else { return }
        let pending = try? read { reader throws(StorageError) in
            try reader.compactRevision > reader.meta(.finishedCompactRevision)
        }
        guard pending == true else { return }
        compactionQueued = true
        submit(.compactionStep)
    }

    private func awaitCompaction(_ done: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        do throws(StorageError) {
            let pending = try read { reader throws(StorageError) in
                try reader.compactRevision > reader.meta(.finishedCompactRevision)
            }
            if pending { compactionWaiters.append(done) } else { done(.success(())) }
        } catch {
            done(.failure(error))
        }
    }

    /// Removes old versions for the next `compactionBatchKeys` keys in one transaction. A pass
    /// over all keys finishes the compact revision it started with; if a newer compaction was
    /// scheduled meanwhile, another pass follows.
    private func compactionStep() {
        compactionQueued = false
        let outcome: Result<Bool, StorageError> = lock.withReadLock {
            guard let environment else { return .failure(closedError) }
            do throws(StorageError) {
                let txn = try environment.beginWrite()
                do throws(StorageError) {
                    let reader = MVCCReader(txn: txn, databases: environment.databases)
                    let target = try reader.compactRevision
                    guard target > (try reader.meta(.finishedCompactRevision)) else {
                        txn.abort()
                        return .success(false)
                    }
                    if compactionNextKey == nil { compactionPassRevision = target }
                    let next = try compactKeys(
                        reader, from: compactionNextKey ?? [], upTo: target, limit: options.compactionBatchKeys)
                    if next == nil {
                        var writer = ByteWriter(capacity: 8)
                        writer.write(compactionPassRevision)
                        try txn.put(environment.databases.meta, MetaKey.finishedCompactRevision.key, writer.bytes)
                    }
                    Failpoint.crashDuringCompaction.crashIfArmed()
                    try txn.commit()
                    compactionNextKey = next
                    return .success(true)
                } catch {
                    txn.abort()
                    throw error
                }
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(true):
            compactionQueued = true
            submit(.compactionStep)
        case .success(false):
            let waiters = compactionWaiters
            compactionWaiters = []
            waiters.forEach { $0(.success(())) }
        case .failure(let error):
            compactionNextKey = nil
            let waiters = compactionWaiters
            compactionWaiters = []
            waiters.forEach { $0(.failure(error)) }
        }
    }

    /// Drops, for up to `limit` keys from `start` on, every version at or below `target`
    /// except the newest, and that one too when it is a tombstone. Returns the key to resume
    /// from, or nil when the pass is complete.
    private func compactKeys(_ reader: MVCCReader, from start: [UInt8], upTo target: Int64, limit: Int) throws(StorageError) -> [UInt8]? {
        let txn = reader.txn
        let databases = reader.databases
        let cursor = try txn.cursor(databases.index)
        defer { cursor.close() }
        var current = start.isEmpty ? try cursor.get(MDB_FIRST) : try cursor.get(MDB_SET_RANGE, key: start)
        var processed = 0
        while let (key, firstValue) = current {
            if processed == limit { return key }
            var old: [IndexEntry] = []
            var value: [UInt8]? = firstValue
            while let bytes = value {
                let entry = try reader.decodeIndexEntry(bytes, key: key)
                guard entry.revision.main <= target else { break }
                old.append(entry)
                value = try cursor.get(MDB_NEXT_DUP)?.value
            }
            if let newest = old.last, !newest.isTombstone { old.removeLast() }
            for entry in old {
                try txn.delete(databases.kv, entry.revision.encoded)
                try txn.delete(databases.index, key, value: entry.encoded)
            }
            processed += 1
            current = try cursor.get(MDB_SET_RANGE, key: key)
            if current?.key == key { current = try cursor.get(MDB_NEXT_NODUP) }
        }
        return nil
    }

    private var defragmentPath: String { path + ".defrag" }

    private func defragmentNow() -> Result<Void, StorageError> {
        let temporaryPath = defragmentPath
        do throws(StorageError) {
            let fd = try FileIO.open(temporaryPath, flags: O_WRONLY | O_CREAT | O_TRUNC)
            do throws(StorageError) {
                try copy(to: fd)
                try FileIO.sync(fd, temporaryPath)
                FileIO.close(fd)
            } catch {
                FileIO.close(fd)
                unlink(temporaryPath)
                throw error
            }
            Failpoint.crashDuringDefrag.crashIfArmed()
            try swapIn(temporaryPath)
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    private func replaceNow(with file: String) -> Result<Void, StorageError> {
        do throws(StorageError) {
            try swapIn(file)
            // Compaction progress belonged to the old database.
            compactionNextKey = nil
            compactionPassRevision = 0
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// Closes the database, moves `file` over it and opens that; readers wait meanwhile.
    private func swapIn(_ file: String) throws(StorageError) {
        try lock.withWriteLock { () throws(StorageError) in
            guard let old = environment else { throw closedError }
            old.close()
            environment = nil
            let renamed = rename(file, path) == 0 ? nil : FileIO.error("rename \(file) to", path)
            environment = try LMDBEnvironment(path: path, mapSizeBytes: options.mapSizeBytes)
            if let renamed { throw renamed }
            try FileIO.syncDirectory(containing: path)
        }
    }
}

/// A semaphore the writer thread waits on while a caller holds writes.
final class DispatchSemaphoreBox: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func wait() { semaphore.wait() }
    func signal() { semaphore.signal() }
}
