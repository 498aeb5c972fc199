import Foundation

/// A bbolt (go.etcd.io/bbolt) database file opened read-only, such as etcd's `member/snap/db` or
/// the output of `etcdctl snapshot save`.
///
/// The file is memory-mapped, never read whole: opening a many-GiB database costs address space
/// and the pages a walk touches. Opening selects the meta page the way bbolt does (the valid one
/// with the higher transaction id) and checks it describes no more pages than the file holds.
/// Every structural problem met later throws ``BoltError`` naming the file, page and offset.
///
/// The mapping is never written, so one `BoltFile` may be read from several threads at once
/// (hence `@unchecked Sendable`; the only mutable state, the mapping reference, is behind a lock).
/// `close()` or deinitialisation unmaps the file once reads already under way have finished.
/// Iteration drops leaf pages from the resident set as it passes them, so scanning a database
/// larger than memory keeps the process's footprint flat.
public final class BoltFile: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The database's page size in bytes, from its meta page.
    public let pageSize: Int
    /// The transaction id of the selected meta page: the last committed write transaction.
    public let txid: UInt64
    /// How many bytes of the file are treated as the database.
    public let lengthBytes: Int

    private let meta: BoltMeta
    private let lock = NSLock()
    /// Nil once closed. Guarded by `lock`; a walk holds its own reference, so closing never
    /// unmaps under a walk in progress.
    private var mapped: MappedFile?

    /// Opens the database at `path` read-only.
    ///
    /// - Parameter lengthBytes: how many leading bytes are the database; the rest of the file is
    ///   ignored. `etcdctl snapshot save` files end with a SHA-256 trailer that is not part of the
    ///   database: pass ``EtcdSnapshotFile/databaseBytes(path:)``. Nil means the whole file.
    public init(path: String, lengthBytes: Int? = nil) throws {
        let file = try MappedFile(path: path, lengthBytes: lengthBytes)
        let meta = try BoltMeta.select(in: file)
        self.path = path
        self.pageSize = meta.pageSize
        self.txid = meta.txid
        self.lengthBytes = file.count
        self.meta = meta
        self.mapped = file
    }

    /// Releases the mapping. Later calls throw a ``BoltError`` with code `io`. Idempotent.
    public func close() {
        lock.withLock { mapped = nil }
    }

    /// The names of the buckets in the bucket at `path`; the top-level buckets by default.
    public func bucketNames(in path: [String] = []) throws -> [String] {
        let reader = try reader()
        var names: [String] = []
        try reader.walk(from: try reader.bucket(at: path), reverse: false) { _, element in
            if element.isBucket {
                names.append(String(decoding: reader.file.bytes(element.key), as: UTF8.self))
            }
            return true
        }
        return names
    }

    /// Whether a top-level bucket called `name` exists.
    public func hasBucket(_ name: String) throws -> Bool {
        do {
            _ = try reader().bucket(at: [name])
            return true
        } catch let error as BoltError where error.code == .missingBucket {
            return false
        }
    }

    /// Calls `body` with each key and value of the top-level bucket `name`, in key order
    /// (descending when `reverse`), until it returns false. Nested bucket entries are skipped.
    ///
    /// Throws ``BoltError`` with code `missingBucket` if there is no such bucket: an absent
    /// bucket is not an empty one.
    public func forEach(
        bucket name: String, reverse: Bool = false,
        _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Bool
    ) throws {
        try forEach(bucketPath: [name], reverse: reverse, body)
    }

    /// Like ``forEach(bucket:reverse:_:)`` for a nested bucket: `["outer", "inner"]`.
    public func forEach(
        bucketPath: [String], reverse: Bool = false,
        _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Bool
    ) throws {
        let reader = try reader()
        try reader.walk(from: try reader.bucket(at: bucketPath), reverse: reverse) { _, element in
            guard !element.isBucket else { return true }
            return try body(reader.file.bytes(element.key), reader.file.bytes(element.value))
        }
    }

    /// The value stored under `key` in the top-level bucket `name`, or nil if the key is absent
    /// or holds a nested bucket. Throws `missingBucket` if the bucket does not exist.
    public func value(forKey key: [UInt8], inBucket name: String) throws -> [UInt8]? {
        let reader = try reader()
        guard let (_, element) = try reader.find(key, from: try reader.bucket(at: [name])), !element.isBucket else {
            return nil
        }
        return reader.file.bytes(element.value)
    }

    private func reader() throws -> BoltReader {
        guard let file = lock.withLock({ mapped }) else {
            throw BoltError(code: .io, message: "'\(path)' is closed")
        }
        return BoltReader(file: file, meta: meta)
    }
}
