import Foundation
import Storage

/// `cairn snapshot save --data-dir DIR FILE`: the archive of a stopped member's backend, read
/// straight from its files. The manifest's facts come from the same read-only store the copy
/// is taken from, which nothing else writes while the member is stopped.
public enum OfflineSnapshot {
    public static func backendPath(dataDirectory: String) -> String { dataDirectory + "/member/snap/db" }

    public static func save(dataDirectory: String, to path: String, force: Bool, level: Int32, toolVersion: String,
        encryptionKey: EncryptionKey? = nil)
        async throws -> (manifest: SnapshotManifest, sha256: String, bytes: Int)
    {
        let backend = backendPath(dataDirectory: dataDirectory)
        guard FileManager.default.fileExists(atPath: backend) else {
            throw BackupError("save", at: backend, "no cairn backend here: is \(dataDirectory) a cairn data-dir?")
        }
        let store = try MVCCStore(path: backend, options: MVCCOptions(readOnly: true))
        defer { store.close() }
        let status = try store.status()
        let hash = try store.hashKV(revision: status.revision)
        let members = try store.members()
        // The backend does not record which member it belongs to; a lone member is that member.
        let member = members.count == 1 ? members[0] : nil
        let manifest = SnapshotManifest(
            source: "cairn", clusterID: status.clusterID, memberID: member?.id ?? 0, memberName: member?.name ?? "",
            revision: status.revision, compactRevision: status.compactRevision, raftIndex: status.consistentIndex,
            raftTerm: status.term, keyCount: hash.keyCount, kvHash: hash.hash, serverVersion: "offline",
            toolVersion: toolVersion)
        let writer = try SnapshotArchiveWriter(path: path, force: force, level: level,
            workers: SnapshotArchiveWriter.defaultWorkers, encryptionKey: encryptionKey)
        do {
            try await writer.appendDatabase(from: try BackendCopyStream(store: store))
            return try writer.finish(manifest: manifest)
        } catch {
            writer.abandon()
            throw error
        }
    }
}
