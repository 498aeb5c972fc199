import API
import Backup
import Dispatch
import Foundation
import Storage

/// Migration from etcd: copies an etcd backend (bbolt) into a new cairn store with every key
/// version at its own revision, the compaction it had, and its leases (with their full TTLs).
enum EtcdImport {
    struct Imported {
        var revision: Int64
        var compactRevision: Int64
    }

    /// Key versions written per store transaction: bounds both memory and LMDB's dirty pages.
    static let batchVersionsMax = 10_000
    static let batchBytesMax = 16 << 20

    /// The length of the database in an `etcdctl snapshot save` file, once its SHA-256 trailer
    /// checks out (as `etcdctl snapshot restore` checks it).
    static func checkedLength(of path: String, skipHashCheck: Bool) throws -> Int {
        do {
            if skipHashCheck { return try EtcdSnapshotFile.databaseBytes(path: path) }
            let (length, trailer) = try EtcdSnapshotFile.inspect(path: path, sha256: sha256(ofPrefix:length:))
            switch trailer {
            case .valid:
                return length
            case .absent:
                throw RestoreError(.invalidSnapshot,
                    "\(path) has no SHA-256 trailer, so its integrity cannot be checked (a copy of member/snap/db has none): if you trust it, pass --skip-hash-check")
            case .mismatch(let expected, let actual):
                throw RestoreError(.invalidSnapshot,
                    "\(path) is damaged: its SHA-256 trailer says \(expected), its first \(length) bytes hash to \(actual)")
            }
        } catch let error as BoltError {
            throw RestoreError(.invalidSnapshot, "\(path): \(error.message)")
        }
    }

    private static func sha256(ofPrefix path: String, length: Int) throws -> [UInt8] {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw RestoreError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { try? file.close() }
        let digest = SHA256Digest()
        var remaining = length
        while remaining > 0 {
            guard let chunk = try file.read(upToCount: min(remaining, 1 << 20)), !chunk.isEmpty else {
                throw RestoreError(.io, "\(path) ended \(remaining) bytes before its trailer")
            }
            chunk.withUnsafeBytes { digest.update($0) }
            remaining -= chunk.count
        }
        return digest.finish()
    }

    /// Imports the bbolt database in the first `length` bytes of `boltFile` (all of it when
    /// nil) into a new store at `storePath`. `progress` hears the key-version bytes copied.
    static func run(boltFile: String, length: Int?, into storePath: String,
        progress: @escaping @Sendable (Int) -> Void, batchVersionsMax: Int = batchVersionsMax) async throws -> Imported
    {
        let backend: EtcdBackend
        let facts: (latest: Int64?, scheduled: Int64?, finished: Int64?)
        do {
            backend = EtcdBackend(file: try BoltFile(path: boltFile, lengthBytes: length))
            facts = (try backend.latestRevision(), try backend.scheduledCompactRevision(),
                try backend.finishedCompactRevision())
        } catch let error as BoltError {
            throw RestoreError(.invalidSnapshot, "\(boltFile) is not a readable etcd backend: \(error.message)")
        }
        defer { backend.file.close() }
        let size = length ?? ((try? FileManager.default.attributesOfItem(atPath: boltFile)[.size] as? Int) ?? 0)
        let store = try MVCCStore(path: storePath, options: MVCCOptions(quotaBytes: max(MVCCOptions.defaultQuotaBytes, 2 * size)))
        defer { store.close() }

        let leases = try readLeases(backend, path: boltFile)
        try await store.write { transaction in
            for lease in leases { try transaction.grantLease(lease) }
        }
        let reader = VersionReader(backend: backend, path: boltFile, batchVersionsMax: batchVersionsMax)
        var copiedBytes = 0
        do {
            for try await batch in reader.batches() {
                try await store.write { transaction in
                    for version in batch {
                        try transaction.importVersion(version.keyValue, main: version.main, sub: version.sub,
                            isTombstone: version.isTombstone)
                    }
                }
                reader.release()
                copiedBytes += batch.reduce(0) { $0 + $1.keyValue.key.count + $1.keyValue.value.count }
                progress(copiedBytes)
            }
        } catch {
            reader.cancel()
            throw error
        }
        // etcd's own rule on restart: a compaction may have removed the newest tombstones,
        // so the store is at least at the finished compaction.
        let compactRevision = max(facts.scheduled ?? 0, facts.finished ?? 0)
        let revision = max(facts.latest ?? 1, facts.finished ?? 0)
        try await store.write { transaction in
            try transaction.advanceRevision(to: revision, compact: false)
            try transaction.markCompacted(at: compactRevision)
        }
        try store.sync()
        return Imported(revision: revision, compactRevision: compactRevision)
    }

    private static func readLeases(_ backend: EtcdBackend, path: String) throws -> [LeaseRecord] {
        var leases: [LeaseRecord] = []
        do {
            try backend.forEachLease { id, value in
                let lease = try Leasepb_Lease(serializedBytes: value)
                guard lease.id == id else {
                    throw RestoreError(.invalidSnapshot, "\(path): lease bucket key \(id) holds lease \(lease.id)")
                }
                leases.append(LeaseRecord(id: id, ttlSeconds: lease.ttl))
                return true
            }
        } catch let error as BoltError {
            throw RestoreError(.invalidSnapshot, "\(path): \(error.message)")
        }
        return leases
    }
}

/// One decoded entry of etcd's key bucket.
struct ImportedVersion: Sendable {
    var main: Int64
    var sub: Int64
    var isTombstone: Bool
    var keyValue: KeyValue
}

/// Walks etcd's key bucket on a thread of its own (the walk cannot suspend) and hands the
/// versions over in batches, at most two ahead of the writer, so memory stays bounded
/// whatever the database's size.
final class VersionReader: @unchecked Sendable {
    private let backend: EtcdBackend
    private let path: String
    private let batchVersionsMax: Int
    private let slots = DispatchSemaphore(value: 2)
    private let lock = NSLock()
    private var cancelled = false

    init(backend: EtcdBackend, path: String, batchVersionsMax: Int) {
        self.backend = backend
        self.path = path
        self.batchVersionsMax = batchVersionsMax
    }

    func batches() -> AsyncThrowingStream<[ImportedVersion], any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [ImportedVersion].self)
        let thread = Thread { [self] in
            do {
                try walk { continuation.yield($0) }
                continuation.finish()
            } catch let error as BoltError {
                continuation.finish(throwing: RestoreError(.invalidSnapshot, "\(path): \(error.message)"))
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.name = "cairn-etcd-import"
        thread.start()
        return stream
    }

    /// The writer is done with a batch.
    func release() { slots.signal() }

    /// The writer gave up: the walk stops at its next version.
    func cancel() {
        lock.withLock { cancelled = true }
        slots.signal()
    }

    private var isCancelled: Bool { lock.withLock { cancelled } }

    private func walk(_ deliver: @escaping ([ImportedVersion]) -> Void) throws {
        var batch: [ImportedVersion] = []
        var batchBytes = 0
        func hand() {
            slots.wait()
            deliver(batch)
            batch = []
            batchBytes = 0
        }
        try backend.forEachKeyVersion { version in
            if isCancelled { return false }
            let decoded: Mvccpb_KeyValue
            do {
                decoded = try Mvccpb_KeyValue(serializedBytes: version.value)
            } catch {
                throw RestoreError(.invalidSnapshot,
                    "\(path): the key version at revision \(version.main).\(version.sub) does not decode: \(error)")
            }
            let keyValue = KeyValue(key: [UInt8](decoded.key), createRevision: decoded.createRevision,
                modRevision: decoded.modRevision, version: decoded.version, value: [UInt8](decoded.value),
                lease: decoded.lease)
            batch.append(ImportedVersion(main: version.main, sub: version.sub, isTombstone: version.isTombstone,
                keyValue: keyValue))
            batchBytes += version.value.count
            if batch.count >= batchVersionsMax || batchBytes >= EtcdImport.batchBytesMax { hand() }
            return true
        }
        if !batch.isEmpty, !isCancelled { hand() }
    }
}
