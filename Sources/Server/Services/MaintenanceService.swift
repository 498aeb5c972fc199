import Backup
import API
import Foundation
import GRPCCore
import Storage

/// etcd's Maintenance service.
struct MaintenanceService: Etcdserverpb_Maintenance.SimpleServiceProtocol {
    let server: EtcdServer

    /// etcd streams snapshots in 32 KiB chunks.
    static let snapshotChunkBytes = 32 * 1024

    /// GET lists the active alarms (of one type, or all for NONE); ACTIVATE and DEACTIVATE go
    /// through raft so every member agrees, and answer with the alarm they changed.
    func alarm(request: Etcdserverpb_AlarmRequest, context: ServerContext) async throws -> Etcdserverpb_AlarmResponse {
        try await answeringAsEtcd {
            let alarms: [AlarmRecord]
            switch request.action {
            case .get:
                try await server.host.linearizableBarrier()
                let wanted = request.alarm
                alarms = try server.store.alarms().filter { wanted == .none || Int($0.kind.rawValue) == wanted.rawValue }
            case .activate, .deactivate:
                // Disarming an alarm is for operators: cairn asks for the root role.
                try server.auth.requireAdmin()
                guard case .alarm(let changed) = try await server.propose({ $0.alarm = request }) else {
                    throw RPCError(code: .internalError, message: "etcdserver: unexpected apply result for alarm")
                }
                alarms = changed
            case .UNRECOGNIZED(let value):
                throw RPCError(code: .invalidArgument, message: "etcdserver: unknown alarm action \(value)")
            }
            var response = Etcdserverpb_AlarmResponse()
            response.header = try await server.header()
            response.alarms = alarms.map(Etcdserverpb_AlarmMember.init)
            return response
        }
    }

    func status(request: Etcdserverpb_StatusRequest, context: ServerContext) async throws -> Etcdserverpb_StatusResponse {
        try await answeringAsEtcd {
            let storeStatus = try server.store.status()
            let raft = await server.host.status
            var response = Etcdserverpb_StatusResponse()
            response.header = await server.header(revision: storeStatus.revision)
            response.version = EtcdServer.reportedVersion
            response.dbSize = Int64(storeStatus.sizeBytes)
            response.dbSizeInUse = Int64(storeStatus.sizeInUseBytes)
            response.dbSizeQuota = Int64(storeStatus.quotaBytes)
            response.leader = raft.leader
            response.raftIndex = raft.commitIndex
            response.raftTerm = raft.term
            response.raftAppliedIndex = raft.appliedIndex
            response.isLearner = raft.isLearner
            response.errors = try server.alarmDescriptions()
            return response
        }
    }

    func defragment(request: Etcdserverpb_DefragmentRequest, context: ServerContext) async throws
        -> Etcdserverpb_DefragmentResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            try await server.store.defragment()
            var response = Etcdserverpb_DefragmentResponse()
            response.header = try await server.header()
            return response
        }
    }

    /// etcd hashes its whole backend file; cairn answers with the content hash of the current
    /// revision, which is what comparisons between members need and is independent of layout.
    func hash(request: Etcdserverpb_HashRequest, context: ServerContext) async throws -> Etcdserverpb_HashResponse {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            let hash = try server.store.hashKV()
            var response = Etcdserverpb_HashResponse()
            response.header = await server.header(revision: hash.revision)
            response.hash = hash.hash
            return response
        }
    }

    func hashKV(request: Etcdserverpb_HashKVRequest, context: ServerContext) async throws -> Etcdserverpb_HashKVResponse {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            return try await Self.hashKV(request, server: server)
        }
    }

    /// The KV hash at the request's revision, as clients and the other members ask for it.
    static func hashKV(_ request: Etcdserverpb_HashKVRequest, server: EtcdServer) async throws -> Etcdserverpb_HashKVResponse {
        let hash = try server.store.hashKV(revision: request.revision)
        var response = Etcdserverpb_HashKVResponse()
        response.header = try await server.header()
        response.hash = hash.hash
        // etcd reports -1 until the first compaction.
        response.compactRevision = hash.compactRevision > 0 ? hash.compactRevision : -1
        response.hashRevision = hash.revision
        return response
    }

    /// Streams a consistent copy of the backend, then a last message whose blob is the SHA-256
    /// of every byte before it, as etcd does (`etcdctl snapshot save` relies on it). The copy
    /// flows through a pipe: no temporary file, and memory stays at one chunk. The trailers
    /// carry ``SnapshotFacts`` about exactly the streamed copy, for `cairn snapshot save`.
    func snapshot(request: ServerRequest<Etcdserverpb_SnapshotRequest>, context: ServerContext) async throws
        -> StreamingServerResponse<Etcdserverpb_SnapshotResponse>
    {
        // A snapshot holds every key: the root role only, when auth is enabled.
        do {
            try server.auth.requireAdmin()
        } catch {
            return StreamingServerResponse(error: EtcdError.from(error))
        }
        return StreamingServerResponse { writer in try await streamSnapshot(to: writer).metadata }
    }

    func snapshot(request: Etcdserverpb_SnapshotRequest, response: RPCWriter<Etcdserverpb_SnapshotResponse>,
        context: ServerContext) async throws
    {
        _ = try await streamSnapshot(to: response)
    }

    private func streamSnapshot(to response: RPCWriter<Etcdserverpb_SnapshotResponse>) async throws -> SnapshotFacts {
        let (header, copy) = try await answeringAsEtcd {
            (try await server.header(), try await ConsistentCopy.start(of: server))
        }
        let status = copy.status
        let digest = SHA256Digest()
        var sent = 0
        while true {
            let chunk = try await copy.stream.next(upTo: Self.snapshotChunkBytes)
            if chunk.isEmpty { break }
            digest.update(chunk)
            sent += chunk.count
            var message = Etcdserverpb_SnapshotResponse()
            message.header = header
            // The compacted copy's final size is known only at its end: report the in-use size
            // of the database as the estimate, never below one byte until the end.
            message.remainingBytes = UInt64(max(status.sizeInUseBytes - sent, 1))
            message.blob = Data(chunk)
            message.version = EtcdServer.reportedVersion
            try await response.write(message)
        }
        let facts = try await answeringAsEtcd { try await copy.facts() }
        var last = Etcdserverpb_SnapshotResponse()
        last.header = header
        last.remainingBytes = 0
        last.blob = Data(digest.finish())
        last.version = EtcdServer.reportedVersion
        try await response.write(last)
        return facts
    }

    /// Hands leadership to another voter; only the leader can (etcdctl sends it there).
    func moveLeader(request: Etcdserverpb_MoveLeaderRequest, context: ServerContext) async throws
        -> Etcdserverpb_MoveLeaderResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            guard await server.host.isLeader else { throw EtcdError.notLeader }
            let voters = try server.store.members().filter { !$0.isLearner }.map(\.id)
            guard voters.contains(request.targetID) else { throw EtcdError.badLeaderTransferee }
            try await server.host.transferLeadership(to: request.targetID)
            var response = Etcdserverpb_MoveLeaderResponse()
            response.header = try await server.header()
            return response
        }
    }

    func downgrade(request: Etcdserverpb_DowngradeRequest, context: ServerContext) async throws
        -> Etcdserverpb_DowngradeResponse
    {
        throw RPCError(code: .unimplemented, message: "etcdserver: downgrade is not supported by cairn")
    }
}
