import Backup
import Foundation
import Synchronization

/// This member's own snapshots, written straight from its store: what `cairn server
/// --snapshot-schedule` takes. No client connection is involved, so auth and TLS on the client
/// URLs do not stand in the way, and no snapshot byte leaves the process before it is sealed
/// in the archive (encrypted, with a key).
public final class LocalSnapshots: Sendable {
    private let server = Mutex<EtcdServer?>(nil)

    public init() {}

    func attach(_ server: EtcdServer) { self.server.withLock { $0 = server } }
    func detach() { server.withLock { $0 = nil } }

    /// Returns once the member serves linearizable reads (a leader, and everything committed
    /// applied); polls until then.
    public func waitUntilServing() async throws {
        while true {
            if let server = server.withLock({ $0 }), (try? await server.host.linearizableBarrier()) != nil { return }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Writes an archive of the store as it is now at `path` (never replacing a file).
    public func save(to path: String, level: Int32, toolVersion: String, encryptionKey: EncryptionKey?) async throws
        -> (manifest: SnapshotManifest, sha256: String, bytes: Int)
    {
        guard let server = server.withLock({ $0 }) else {
            throw BackupError("save", at: path, "the member is not running, so it has nothing to snapshot")
        }
        let writer = try SnapshotArchiveWriter(path: path, force: false, level: level,
            workers: SnapshotArchiveWriter.defaultWorkers, encryptionKey: encryptionKey)
        do {
            let copy = try await ConsistentCopy.start(of: server)
            try await writer.appendDatabase(from: copy.stream)
            let manifest = SnapshotManifest(try await copy.facts(), serverVersion: EtcdServer.reportedVersion,
                toolVersion: toolVersion)
            return try writer.finish(manifest: manifest)
        } catch {
            writer.abandon()
            throw error
        }
    }
}

extension SnapshotManifest {
    /// The manifest of a cairn member's copy with `facts`.
    init(_ facts: SnapshotFacts, serverVersion: String, toolVersion: String) {
        self.init(
            source: "cairn", clusterID: facts.clusterID, memberID: facts.memberID, memberName: facts.memberName,
            revision: facts.revision, compactRevision: facts.compactRevision, raftIndex: facts.raftIndex,
            raftTerm: facts.raftTerm, keyCount: facts.keyCount, kvHash: facts.kvHash, serverVersion: serverVersion,
            toolVersion: toolVersion)
    }
}
