import API
import Foundation
import GRPCCore
import Logging
import Raft
import Storage

/// The peer side of ``PeerTransport``, served on `--listen-peer-urls`: raft messages and
/// snapshots from the other members, and the member list for members joining the cluster.
struct PeerService: Cairnpb_Peer.SimpleServiceProtocol {
    static let clusterMismatch = "cluster ID mismatch"

    let server: EtcdServer
    let lessor: Lessor<ContinuousClock>
    var identity: RaftHost.Identity { server.identity }
    var host: RaftHost { server.host }
    var store: MVCCStore { server.store }
    /// Where received snapshots are written (`member/snap`).
    let snapshotDirectory: String
    let logger: Logger

    /// Refuses members of another cluster (started with another token or initial cluster):
    /// their messages would corrupt this one.
    private func check(clusterID: UInt64, from member: UInt64) throws {
        guard clusterID == identity.clusterID else {
            logger.error("refused raft messages from a member of another cluster (cluster ID mismatch)", metadata: [
                "from": "\(String(member, radix: 16))", "local-cluster-id": "\(String(identity.clusterID, radix: 16))",
                "remote-cluster-id": "\(String(clusterID, radix: 16))",
            ])
            throw RPCError(code: .failedPrecondition, message:
                "\(Self.clusterMismatch): member \(String(identity.memberID, radix: 16)) belongs to cluster \(String(identity.clusterID, radix: 16)), the sender to \(String(clusterID, radix: 16))")
        }
    }

    func messages(request: RPCAsyncSequence<Cairnpb_PeerEnvelope, any Error>, context: ServerContext) async throws
        -> Cairnpb_PeerAck
    {
        for try await envelope in request {
            try check(clusterID: envelope.clusterID, from: envelope.from)
            guard envelope.to == identity.memberID else {
                throw RPCError(code: .failedPrecondition, message:
                    "raft messages for member \(String(envelope.to, radix: 16)) reached member \(String(identity.memberID, radix: 16))")
            }
            await host.step(envelope.messages.compactMap(Message.init))
            // The sender reconnects to a member that is back, and gets refused by one that is gone.
            if server.shuttingDown.load(ordering: .relaxed) { break }
        }
        return Cairnpb_PeerAck()
    }

    /// Writes the snapshot's backend to `member/snap/<index>.snap.db` (through a `.part`
    /// file, synced), then hands the raft message to the host, which installs the file when
    /// raft accepts the snapshot.
    func snapshot(request: RPCAsyncSequence<Cairnpb_SnapshotChunk, any Error>, context: ServerContext) async throws
        -> Cairnpb_PeerAck
    {
        var chunks = request.makeAsyncIterator()
        guard let first = try await chunks.next(), let message = Message(first.message), message.type == .snapshot,
            let metadata = message.snapshot?.metadata
        else {
            throw RPCError(code: .invalidArgument, message: "a snapshot stream must start with its raft snapshot message")
        }
        try check(clusterID: first.clusterID, from: message.from)
        let path = Self.snapshotFile(in: snapshotDirectory, index: metadata.index)
        let partial = path + ".part"
        FileManager.default.createFile(atPath: partial, contents: nil)
        guard let file = FileHandle(forWritingAtPath: partial) else {
            throw RPCError(code: .internalError, message: "cannot create \(partial) for a received snapshot")
        }
        var received = 0
        do {
            while let chunk = try await chunks.next() {
                try file.write(contentsOf: chunk.data)
                received += chunk.data.count
            }
            try file.synchronize()
            try file.close()
            guard rename(partial, path) == 0 else {
                throw RPCError(code: .internalError, message: "cannot rename \(partial) to \(path): errno \(errno)")
            }
        } catch {
            try? file.close()
            unlink(partial)
            throw error
        }
        logger.info("received raft snapshot", metadata: [
            "from": "\(String(message.from, radix: 16))", "index": "\(metadata.index)", "term": "\(metadata.term)",
            "bytes": "\(received)",
        ])
        await host.receiveSnapshot(message, file: path)
        return Cairnpb_PeerAck()
    }

    func members(request: Cairnpb_MembersRequest, context: ServerContext) async throws -> Cairnpb_MembersResponse {
        var response = Cairnpb_MembersResponse()
        response.clusterID = identity.clusterID
        response.members = try store.members().map(Etcdserverpb_Member.init)
        return response
    }

    /// A follower's client keeps a lease alive: renew it here if this member still leads.
    func leaseRenew(request: Etcdserverpb_LeaseKeepAliveRequest, context: ServerContext) async throws
        -> Etcdserverpb_LeaseKeepAliveResponse
    {
        try await answeringAsEtcd {
            guard await host.isLeader else { throw EtcdError.notLeader }
            return try await LeaseService.renew(request, server: server, lessor: lessor)
        }
    }

    /// Another member compares its data with this one's (corruption checks).
    func hashKV(request: Etcdserverpb_HashKVRequest, context: ServerContext) async throws -> Etcdserverpb_HashKVResponse {
        try await answeringAsEtcd { try await MaintenanceService.hashKV(request, server: server) }
    }

    func leaseTimeToLive(request: Etcdserverpb_LeaseTimeToLiveRequest, context: ServerContext) async throws
        -> Etcdserverpb_LeaseTimeToLiveResponse
    {
        try await answeringAsEtcd {
            guard await host.isLeader else { throw EtcdError.notLeader }
            return try await LeaseService.timeToLive(request, server: server, lessor: lessor)
        }
    }

    /// A received snapshot's backend, named by its raft index as etcd names its `.snap.db`.
    static func snapshotFile(in directory: String, index: LogIndex) -> String {
        let hex = String(index, radix: 16)
        return directory + "/" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".snap.db"
    }
}
