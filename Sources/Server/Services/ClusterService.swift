import API
import GRPCCore
import Storage

/// etcd's Cluster service. Membership changes arrive with multi-member clusters; until then
/// they are refused with a clear error rather than pretending.
struct ClusterService: Etcdserverpb_Cluster.SimpleServiceProtocol {
    let server: EtcdServer

    private static let membershipUnsupported = RPCError(
        code: .unimplemented, message: "etcdserver: membership changes are not supported by this cairn version yet")

    func memberList(request: Etcdserverpb_MemberListRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberListResponse
    {
        try await answeringAsEtcd {
            if request.linearizable { try await server.host.linearizableBarrier() }
            var response = Etcdserverpb_MemberListResponse()
            response.header = try await server.header()
            response.members = try server.store.members().map { record in
                var member = Etcdserverpb_Member()
                member.id = record.id
                member.name = record.name
                member.peerUrls = record.peerURLs
                member.clientUrls = record.clientURLs
                member.isLearner = record.isLearner
                return member
            }
            return response
        }
    }

    func memberAdd(request: Etcdserverpb_MemberAddRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberAddResponse
    {
        throw Self.membershipUnsupported
    }

    func memberRemove(request: Etcdserverpb_MemberRemoveRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberRemoveResponse
    {
        throw Self.membershipUnsupported
    }

    func memberUpdate(request: Etcdserverpb_MemberUpdateRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberUpdateResponse
    {
        throw Self.membershipUnsupported
    }

    func memberPromote(request: Etcdserverpb_MemberPromoteRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberPromoteResponse
    {
        throw Self.membershipUnsupported
    }
}
