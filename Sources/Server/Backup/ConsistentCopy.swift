import Backup
import Storage

/// A copy of a member's backend begun while writes were held, so the status read at that
/// moment describes exactly the copied bytes; its KV hash is computed alongside the copy.
/// Maintenance.Snapshot streams one to clients; ``LocalSnapshots`` writes one into an archive.
struct ConsistentCopy {
    let status: StoreStatus
    let stream: BackendCopyStream
    private let hashing: Task<KVHash, any Error>
    private let server: EtcdServer

    static func start(of server: EtcdServer) async throws -> ConsistentCopy {
        let store = server.store
        let (status, stream) = try await store.withWritesHeld { status in
            (status, try BackendCopyStream(store: store, waitForStart: true))
        }
        // The history at the copy's revision stays readable while the copy streams (unless a
        // compaction passes it, which fails the snapshot rather than mislabel it).
        let hashing = Task { try store.hashKV(revision: status.revision) }
        return ConsistentCopy(status: status, stream: stream, hashing: hashing, server: server)
    }

    /// What the copy holds, once it has been read to its end.
    func facts() async throws -> SnapshotFacts {
        let hash = try await hashing.value
        return SnapshotFacts(
            revision: status.revision, compactRevision: status.compactRevision, raftIndex: status.consistentIndex,
            raftTerm: status.term, clusterID: server.identity.clusterID, memberID: server.identity.memberID,
            memberName: server.configuration.name, keyCount: hash.keyCount, kvHash: hash.hash)
    }
}
