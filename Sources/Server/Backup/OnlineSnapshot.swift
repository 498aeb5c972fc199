import API
import Backup
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// `cairn snapshot save FILE --endpoints URL`: streams a server's Maintenance.Snapshot into a
/// snapshot archive. From cairn, the manifest's facts come with the stream and describe exactly
/// its bytes. From etcd (3.4+), the bbolt file is stored as streamed, its SHA-256 trailer
/// checked, and the manifest says `source: etcd` with facts read just after the stream.
public enum OnlineSnapshot {
    public struct Progress: Sendable {
        public var bytes: Int
        public var estimatedTotal: Int
    }

    /// `access`: TLS files and the user for an https endpoint or a server with auth enabled
    /// (a snapshot needs the root role there).
    public static func save(endpoint: String, access: ClientAccess = ClientAccess(), to path: String, force: Bool, level: Int32,
        toolVersion: String, encryptionKey: EncryptionKey? = nil, progress: @escaping @Sendable (Progress) -> Void = { _ in })
        async throws -> (manifest: SnapshotManifest, sha256: String, bytes: Int)
    {
        try await access.withClient(endpoint: endpoint) { client, metadata in
            let maintenance = Etcdserverpb_Maintenance.Client(wrapping: client)
            var options = CallOptions.defaults
            options.timeout = .seconds(10)
            let status = try await maintenance.status(Etcdserverpb_StatusRequest(), metadata: metadata, options: options)

            let writer = try SnapshotArchiveWriter(path: path, force: force, level: level,
                workers: SnapshotArchiveWriter.defaultWorkers, encryptionKey: encryptionKey)
            do {
                let result = try await maintenance.snapshot(Etcdserverpb_SnapshotRequest(), metadata: metadata) { response in
                    try await receive(response, into: writer, progress: progress)
                }
                let manifest: SnapshotManifest
                if let facts = result.facts {
                    manifest = SnapshotManifest(facts,
                        serverVersion: result.version.isEmpty ? status.version : result.version, toolVersion: toolVersion)
                } else {
                    // etcd sends no facts with its stream: ask for them after it (approximate,
                    // and the manifest says the source is etcd). Hashing a large database takes
                    // a while, so no timeout here.
                    let etcdHash = try await maintenance.hashKV(Etcdserverpb_HashKVRequest(), metadata: metadata)
                    manifest = SnapshotManifest(
                        source: "etcd", clusterID: status.header.clusterID, memberID: status.header.memberID, memberName: "",
                        revision: etcdHash.header.revision, compactRevision: max(0, etcdHash.compactRevision),
                        raftIndex: status.raftIndex, raftTerm: status.raftTerm, keyCount: -1, kvHash: etcdHash.hash,
                        serverVersion: status.version, toolVersion: toolVersion)
                }
                return try writer.finish(manifest: manifest)
            } catch {
                writer.abandon()
                throw error
            }
        }
    }

    /// Writes every blob but the last into the archive; the last is the SHA-256 of the others.
    private static func receive(_ response: StreamingClientResponse<Etcdserverpb_SnapshotResponse>,
        into writer: SnapshotArchiveWriter, progress: @Sendable (Progress) -> Void) async throws
        -> (facts: SnapshotFacts?, version: String)
    {
        let digest = SHA256Digest()
        var pending: Data?
        var received = 0
        var facts: SnapshotFacts?
        var version = ""
        for try await part in response.bodyParts {
            switch part {
            case .message(let message):
                if let previous = pending {
                    try previous.withUnsafeBytes { bytes in
                        digest.update(bytes)
                        try writer.appendDatabase(bytes)
                    }
                    received += previous.count
                    progress(Progress(bytes: received, estimatedTotal: received + Int(message.remainingBytes)))
                }
                pending = message.blob
                if !message.version.isEmpty { version = message.version }
            case .trailingMetadata(let trailers):
                facts = SnapshotFacts(trailers)
            }
        }
        guard let trailer = pending, trailer.count == 32 else {
            throw BackupError("save", at: "byte \(received) of the stream", "the snapshot stream ended without its SHA-256")
        }
        let computed = digest.finish()
        guard [UInt8](trailer) == computed else {
            throw BackupError("save", at: "byte \(received) of the stream",
                "the server's SHA-256 \([UInt8](trailer).hexString) differs from the received bytes' \(computed.hexString)")
        }
        return (facts, version)
    }
}
