import API
import Foundation
import GRPCCore
import Raft
import Storage

/// etcd's Cluster service. Changes are checked against etcd's rules (strict reconfiguration:
/// a change never leaves fewer started voters than a quorum), then go through raft as
/// membership changes; the answer lists the members once the change is applied.
struct ClusterService: Etcdserverpb_Cluster.SimpleServiceProtocol {
    let server: EtcdServer

    private func members() throws -> [MemberRecord] { try server.store.members() }

    private func header() async throws -> Etcdserverpb_ResponseHeader { try await server.header() }

    private func checkHealthy(_ members: [MemberRecord]) async throws {
        let status = await server.host.status
        try Membership.checkHealthy(members, leader: status.leader, self: server.identity.memberID,
            recentlyActive: status.recentlyActive)
    }

    func memberList(request: Etcdserverpb_MemberListRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberListResponse
    {
        try await answeringAsEtcd {
            if request.linearizable { try await server.host.linearizableBarrier() }
            var response = Etcdserverpb_MemberListResponse()
            response.header = try await header()
            response.members = try members().map(Etcdserverpb_Member.init)
            return response
        }
    }

    func memberAdd(request: Etcdserverpb_MemberAddRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberAddResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            let before = try members()
            try Membership.checkAdd(before, peerURLs: request.peerUrls, isLearner: request.isLearner)
            try await checkHealthy(before)
            let added = MemberRecord(
                id: ClusterIdentity.memberID(peerURLs: request.peerUrls, addedAt: Date()), name: "",
                peerURLs: request.peerUrls, isLearner: request.isLearner)
            let after = try await server.host.proposeConfChange(request.isLearner ? .addLearner : .addNode, member: added)
            var response = Etcdserverpb_MemberAddResponse()
            response.header = try await header()
            response.member = Etcdserverpb_Member(after.first { $0.id == added.id } ?? added)
            response.members = after.map(Etcdserverpb_Member.init)
            return response
        }
    }

    func memberRemove(request: Etcdserverpb_MemberRemoveRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberRemoveResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            let before = try members()
            try Membership.checkRemove(before, id: request.id)
            try await checkHealthy(before.filter { $0.id != request.id })
            let removed = before.first { $0.id == request.id }!
            let after = try await server.host.proposeConfChange(.removeNode, member: removed)
            var response = Etcdserverpb_MemberRemoveResponse()
            response.header = try await header()
            response.members = after.map(Etcdserverpb_Member.init)
            return response
        }
    }

    func memberUpdate(request: Etcdserverpb_MemberUpdateRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberUpdateResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            try Membership.checkUpdate(try members(), id: request.id, peerURLs: request.peerUrls)
            guard case .members(let after) = try await server.propose({ $0.memberUpdate = request }) else {
                throw RPCError(code: .internalError, message: "etcdserver: unexpected apply result for member update")
            }
            var response = Etcdserverpb_MemberUpdateResponse()
            response.header = try await header()
            response.members = after.map(Etcdserverpb_Member.init)
            return response
        }
    }

    func memberPromote(request: Etcdserverpb_MemberPromoteRequest, context: ServerContext) async throws
        -> Etcdserverpb_MemberPromoteResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            let before = try members()
            let status = await server.host.status
            try Membership.checkPromote(before, id: request.id, leader: status.leader, matched: status.matched)
            try await checkHealthy(before)
            let learner = before.first { $0.id == request.id }!
            let after = try await server.host.proposeConfChange(.addNode, member: learner)
            var response = Etcdserverpb_MemberPromoteResponse()
            response.header = try await header()
            response.members = after.map(Etcdserverpb_Member.init)
            return response
        }
    }
}
