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
            try await lessor.revoke(id: request.id)
            var response = Etcdserverpb_LeaseRevokeResponse()
            response.header = try await server.header()
            return response
        }
    }

    func leaseKeepAlive(
        request: RPCAsyncSequence<Etcdserverpb_LeaseKeepAliveRequest, any Error>,
        response: RPCWriter<Etcdserverpb_LeaseKeepAliveResponse>, context: ServerContext
    ) async throws {
        try await answeringAsEtcd {
            for try await keepAlive in request {
                var answer = Etcdserverpb_LeaseKeepAliveResponse()
                answer.id = keepAlive.id
                answer.ttl = try await lessor.renew(id: keepAlive.id)
                answer.header = try await server.header()
                try await response.write(answer)
            }
        }
    }

    func leaseTimeToLive(request: Etcdserverpb_LeaseTimeToLiveRequest, context: ServerContext) async throws
        -> Etcdserverpb_LeaseTimeToLiveResponse
    {
        try await answeringAsEtcd {
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
