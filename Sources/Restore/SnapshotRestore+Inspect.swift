import Backup
import Foundation
import Storage

extension SnapshotRestore {
    /// What a snapshot holds, checked without writing anything: a cairn archive's streaming
    /// checks (outer SHA-256, zstd frame checksums, tar members, member SHA-256s), or an etcd
    /// snapshot's SHA-256 trailer and bbolt structure. The restore runbook's preflight.
    public static func inspect(snapshot path: String, encryptionKey: EncryptionKey? = nil) throws
        -> (revision: Int64, databaseBytes: Int64)
    {
        switch try SnapshotKind.detect(path: path) {
        case .cairnArchive:
            do {
                let manifest = try SnapshotArchiveReader.read(path: path, encryptionKey: encryptionKey).manifest
                return (manifest.revision, manifest.databaseBytes)
            } catch let error as BackupError {
                throw RestoreError(.invalidSnapshot, "\(path) does not verify: \(error)")
            }
        case .etcdSnapshot:
            let length = try EtcdImport.checkedLength(of: path, skipHashCheck: false)
            do {
                let file = try BoltFile(path: path, lengthBytes: length)
                defer { file.close() }
                let backend = EtcdBackend(file: file)
                let revision = max(try backend.latestRevision() ?? 1, try backend.finishedCompactRevision() ?? 0)
                return (revision, Int64(length))
            } catch let error as BoltError {
                throw RestoreError(.invalidSnapshot, "\(path) is not a readable etcd backend: \(error.message)")
            }
        }
    }

    /// The revision of a complete restored data-dir at `path` (a restore that finished before
    /// its caller could record it), or nil when there is none. Never a half-written one: those
    /// live in `path.restoring` until renamed.
    public static func restoredRevision(in path: String) throws -> Int64? {
        let directory = DataDirectory(root: path)
        guard directory.hasWAL, FileManager.default.fileExists(atPath: directory.backendPath) else { return nil }
        let store = try MVCCStore(path: directory.backendPath, options: MVCCOptions(readOnly: true))
        defer { store.close() }
        return try store.status().revision
    }
}
