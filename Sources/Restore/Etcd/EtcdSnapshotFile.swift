import Foundation

/// The file `etcdctl snapshot save` writes: a bbolt database followed by a SHA-256 trailer.
///
/// etcd's Maintenance.Snapshot RPC streams the database and then its SHA-256 digest, and etcdctl
/// saves the stream as is. etcd recognises the trailer by size alone (`hasChecksum` in
/// `clientv3/snapshot/v3_snapshot.go`, 3.4): a bbolt file is a whole number of pages, so a size of
/// 32 more than a multiple of 512 means a digest was appended. `etcdctl snapshot restore` refuses
/// a file without one unless told `--skip-hash-check`, which is what a copied `member/snap/db` needs.
public enum EtcdSnapshotFile {
    /// Bytes of the SHA-256 trailer.
    public static let trailerBytes = 32

    /// What the end of a snapshot file says about its integrity.
    public enum TrailerState: Sendable, Equatable {
        /// The trailer matches the SHA-256 of the database bytes.
        case valid
        /// No trailer: a plain bbolt file, such as a copy of `member/snap/db`.
        case absent
        /// The trailer (`expected`, hex) differs from the digest of the database bytes (`actual`, hex):
        /// the file was damaged or altered after etcd sent it.
        case mismatch(expected: String, actual: String)
    }

    /// How many leading bytes of a file of `fileSizeBytes` are the database.
    public static func databaseBytes(fileSizeBytes: Int) -> Int {
        hasTrailer(fileSizeBytes: fileSizeBytes) ? fileSizeBytes - trailerBytes : fileSizeBytes
    }

    /// How many leading bytes of the file at `path` are the database; pass it to
    /// ``BoltFile/init(path:lengthBytes:)``.
    public static func databaseBytes(path: String) throws -> Int {
        databaseBytes(fileSizeBytes: try MappedFile.sizeBytes(of: path))
    }

    /// Checks the trailer of the snapshot at `path`.
    ///
    /// - Parameter sha256: returns the SHA-256 digest (32 bytes) of the first `length` bytes of the
    ///   file at `path`. Injected so the caller's crypto library does the hashing, streaming.
    /// - Returns: the database's length and the trailer's verdict.
    public static func inspect(
        path: String,
        sha256: (_ path: String, _ length: Int) throws -> [UInt8]
    ) throws -> (databaseBytes: Int, trailer: TrailerState) {
        let size = try MappedFile.sizeBytes(of: path)
        guard hasTrailer(fileSizeBytes: size) else { return (size, .absent) }
        let databaseBytes = size - trailerBytes
        let expected = try readTrailer(path: path, at: databaseBytes)
        let actual = try sha256(path, databaseBytes)
        guard actual.count == trailerBytes else {
            throw BoltError(
                code: .io, message: "SHA-256 of '\(path)' came back as \(actual.count) bytes, expected \(trailerBytes)")
        }
        let trailer: TrailerState =
            actual == expected ? .valid : .mismatch(expected: hexString(expected), actual: hexString(actual))
        return (databaseBytes, trailer)
    }

    private static func hasTrailer(fileSizeBytes: Int) -> Bool {
        fileSizeBytes % 512 == trailerBytes
    }

    private static func readTrailer(path: String, at offset: Int) throws -> [UInt8] {
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: trailerBytes) ?? Data()
            guard data.count == trailerBytes else {
                throw BoltError(
                    code: .io, message: "'\(path)': read \(data.count) trailer bytes at offset \(offset), expected \(trailerBytes)")
            }
            return [UInt8](data)
        } catch let error as BoltError {
            throw error
        } catch {
            throw BoltError(code: .io, message: "cannot read the SHA-256 trailer of '\(path)' at offset \(offset): \(error)")
        }
    }
}
