import API
import Foundation
import GRPCCore

/// etcd's Lease service over the ``Lessor``: grants and revokes go through raft; keep-alive
/// and time-to-live answer from the leader's deadlines.
struct LeaseService: Etcdserverpb_Lease.SimpleServiceProtocol {
    let server: EtcdServer
    let lessor: Lessor<ContinuousClock>

    func leaseGrant(request: Etcdserverpb_LeaseGrantRequest, context: ServerContext) async throws
        -> Etcdserverpb_LeaseGrantResponse
    {
        try await answeringAsEtcd {
            let granted = try await lessor.grant(id: request.id, ttlSeconds: request.ttl)
            var response = Etcdserverpb_LeaseGrantResponse()
            response.id = granted.id
            response.ttl = granted.ttlSeconds
            response.header = try await server.header()
            return response
        }
    }

    func leaseRevoke(request: Etcdserverpb_LeaseRevokeRequest, context: ServerContext) async throws
        -> Etcdserverpb_LeaseRevokeResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireWrite(keysOf: request.id)
            try await lessor.revoke(id: request.id)
            var response = Etcdserverpb_LeaseRevokeResponse()
            response.header = try await server.header()
            return response
        }
    }

    /// Keep-alives renew the leader's deadline: a follower forwards each to the leader.
    func leaseKeepAlive(
        request: RPCAsyncSequence<Etcdserverpb_LeaseKeepAliveRequest, any Error>,
        response: RPCWriter<Etcdserverpb_LeaseKeepAliveResponse>, context: ServerContext
    ) async throws {
        try await answeringAsEtcd {
            for try await keepAlive in request {
                try await response.write(try await LeaseService.renew(keepAlive, server: server, lessor: lessor))
            }
        }
    }

    /// Renews on the leader, here or through the peer service.
    static func renew(_ request: Etcdserverpb_LeaseKeepAliveRequest, server: EtcdServer, lessor: Lessor<ContinuousClock>)
        async throws -> Etcdserverpb_LeaseKeepAliveResponse
    {
        guard await server.host.isLeader else {
            return try await server.leader.call { try await $0.leaseRenew(request) }
        }
        var answer = Etcdserverpb_LeaseKeepAliveResponse()
        answer.id = request.id
        answer.ttl = try await lessor.renew(id: request.id)
        answer.header = try await server.header()
        return answer
    }

    func leaseTimeToLive(request: Etcdserverpb_LeaseTimeToLiveRequest, context: ServerContext) async throws
        -> Etcdserverpb_LeaseTimeToLiveResponse
    {
        try await answeringAsEtcd { try await LeaseService.timeToLive(request, server: server, lessor: lessor) }
    }

    /// The remaining TTL is the leader's: a follower asks it.
    static func timeToLive(_ request: Etcdserverpb_LeaseTimeToLiveRequest, server: EtcdServer, lessor: Lessor<ContinuousClock>)
        async throws -> Etcdserverpb_LeaseTimeToLiveResponse
    {
        guard await server.host.isLeader else {
            return try await server.leader.call { try await $0.leaseTimeToLive(request) }
        }
        var response = Etcdserverpb_LeaseTimeToLiveResponse()
        response.id = request.id
        if let lease = try await lessor.timeToLive(id: request.id, withKeys: request.keys) {
            response.ttl = lease.remainingSeconds
            response.grantedTtl = lease.grantedSeconds
            response.keys = lease.keys.map { Data($0) }
        } else {
            // As etcd: an unknown lease is not an error but TTL -1.
            response.ttl = -1
        }
        response.header = try await server.header()
        return response
    }

    func leaseLeases(request: Etcdserverpb_LeaseLeasesRequest, context: ServerContext) async throws
        -> Etcdserverpb_LeaseLeasesResponse
    {
        try await answeringAsEtcd {
            var response = Etcdserverpb_LeaseLeasesResponse()
            response.leases = try lessor.leaseIDs().map { id in
                var status = Etcdserverpb_LeaseStatus()
                status.id = id
                return status
            }
            response.header = try await server.header()
            return response
        }
    }
}
