import API
import Foundation
import GRPCCore
import Storage

/// etcd's Auth service. Changes go through raft (with passwords hashed here, so none reaches
/// the log) and are allowed to the root role once auth is enabled; reads are served here after
/// a linearizable barrier.
struct AuthService: Etcdserverpb_Auth.SimpleServiceProtocol {
    let server: EtcdServer

    /// Proposes an auth change; answers with an empty response of the RPC's type and a header.
    private func change<Response: AuthChangeResponse>(_ build: (inout Cairnpb_AuthChange) -> Void) async throws -> Response {
        var change = Cairnpb_AuthChange()
        build(&change)
        guard case .authChanged = try await server.propose({ $0.authChange = change }) else {
            throw RPCError(code: .internalError, message: "etcdserver: unexpected apply result for an auth change")
        }
        var response = Response()
        response.header = try await server.header()
        return response
    }

    private func readHeader() async throws -> Etcdserverpb_ResponseHeader {
        try await server.host.linearizableBarrier()
        return try await server.header()
    }

    func authEnable(request: Etcdserverpb_AuthEnableRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthEnableResponse
    {
        try await answeringAsEtcd {
            let response: Etcdserverpb_AuthEnableResponse = try await change { $0.enable = request }
            server.logger.info("auth enabled")
            return response
        }
    }

    func authDisable(request: Etcdserverpb_AuthDisableRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthDisableResponse
    {
        try await answeringAsEtcd {
            let response: Etcdserverpb_AuthDisableResponse = try await change { $0.disable = request }
            server.logger.info("auth disabled")
            return response
        }
    }

    func authStatus(request: Etcdserverpb_AuthStatusRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthStatusResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            var response = Etcdserverpb_AuthStatusResponse()
            response.header = try await readHeader()
            let status = try server.store.authStatus()
            response.enabled = status.enabled
            response.authRevision = status.revision
            return response
        }
    }

    /// Checks the password here, then proposes the token so every member learns it.
    func authenticate(request: Etcdserverpb_AuthenticateRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthenticateResponse
    {
        try await answeringAsEtcd {
            guard try server.store.authStatus().enabled else { throw AuthError.authNotEnabled }
            guard let user = try server.store.user(request.name), !user.noPassword,
                PasswordHash.matches(request.password, user.passwordHash)
            else {
                server.logger.notice("authentication failed", metadata: ["user": "\(request.name)"])
                throw AuthError.authFailed
            }
            var authenticate = Cairnpb_Authenticate()
            authenticate.name = request.name
            authenticate.tokenPrefix = TokenKeeper.newPrefix()
            var proposal = Cairnpb_InternalRequest()
            proposal.authenticate = authenticate
            guard case .authenticated(_, let token) = try await server.host.propose(proposal, maxRequestBytes: server.maxRequestBytes)
            else {
                throw RPCError(code: .internalError, message: "etcdserver: unexpected apply result for authenticate")
            }
            var response = Etcdserverpb_AuthenticateResponse()
            response.header = try await server.header()
            response.token = token
            return response
        }
    }

    func userAdd(request: Etcdserverpb_AuthUserAddRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthUserAddResponse
    {
        try await answeringAsEtcd {
            try Self.refuseHashedPassword(request.hashedPassword)
            var add = Cairnpb_UserAdd()
            add.name = request.name
            add.noPassword = request.options.noPassword
            if !add.noPassword { add.passwordHash = PasswordHash.make(request.password) }
            return try await change { $0.userAdd = add }
        }
    }

    func userGet(request: Etcdserverpb_AuthUserGetRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthUserGetResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin(alsoAllowed: { $0.name == request.name })
            var response = Etcdserverpb_AuthUserGetResponse()
            response.header = try await readHeader()
            guard let user = try server.store.user(request.name) else { throw AuthError.userNotFound }
            response.roles = user.roles
            return response
        }
    }

    func userList(request: Etcdserverpb_AuthUserListRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthUserListResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            var response = Etcdserverpb_AuthUserListResponse()
            response.header = try await readHeader()
            response.users = try server.store.users().map(\.name)
            return response
        }
    }

    func userDelete(request: Etcdserverpb_AuthUserDeleteRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthUserDeleteResponse
    {
        try await answeringAsEtcd { try await change { $0.userDelete = request } }
    }

    func userChangePassword(request: Etcdserverpb_AuthUserChangePasswordRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthUserChangePasswordResponse
    {
        try await answeringAsEtcd {
            try Self.refuseHashedPassword(request.hashedPassword)
            var password = Cairnpb_UserPassword()
            password.name = request.name
            password.passwordHash = PasswordHash.make(request.password)
            return try await change { $0.userChangePassword = password }
        }
    }

    func userGrantRole(request: Etcdserverpb_AuthUserGrantRoleRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthUserGrantRoleResponse
    {
        try await answeringAsEtcd { try await change { $0.userGrantRole = request } }
    }

    func userRevokeRole(request: Etcdserverpb_AuthUserRevokeRoleRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthUserRevokeRoleResponse
    {
        try await answeringAsEtcd { try await change { $0.userRevokeRole = request } }
    }

    func roleAdd(request: Etcdserverpb_AuthRoleAddRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthRoleAddResponse
    {
        try await answeringAsEtcd { try await change { $0.roleAdd = request } }
    }

    func roleGet(request: Etcdserverpb_AuthRoleGetRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthRoleGetResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin(alsoAllowed: { $0.roles.contains(request.role) })
            var response = Etcdserverpb_AuthRoleGetResponse()
            response.header = try await readHeader()
            guard let role = try server.store.role(request.role) else { throw AuthError.roleNotFound }
            response.perm = role.permissions.map(Authpb_Permission.init)
            return response
        }
    }

    func roleList(request: Etcdserverpb_AuthRoleListRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthRoleListResponse
    {
        try await answeringAsEtcd {
            try server.auth.requireAdmin()
            var response = Etcdserverpb_AuthRoleListResponse()
            response.header = try await readHeader()
            response.roles = try server.store.roles().map(\.name)
            return response
        }
    }

    func roleDelete(request: Etcdserverpb_AuthRoleDeleteRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthRoleDeleteResponse
    {
        try await answeringAsEtcd { try await change { $0.roleDelete = request } }
    }

    func roleGrantPermission(request: Etcdserverpb_AuthRoleGrantPermissionRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthRoleGrantPermissionResponse
    {
        try await answeringAsEtcd {
            guard request.hasPerm else {
                throw RPCError(code: .invalidArgument, message: "etcdserver: permission not given")
            }
            return try await change { $0.roleGrantPermission = request }
        }
    }

    func roleRevokePermission(request: Etcdserverpb_AuthRoleRevokePermissionRequest, context: ServerContext) async throws
        -> Etcdserverpb_AuthRoleRevokePermissionResponse
    {
        try await answeringAsEtcd { try await change { $0.roleRevokePermission = request } }
    }

    /// etcd 3.5 clients may send a bcrypt hash instead of the password; cairn keeps its own
    /// hashes and cannot check bcrypt ones.
    private static func refuseHashedPassword(_ hashed: String) throws {
        guard hashed.isEmpty else {
            throw RPCError(code: .invalidArgument,
                message: "etcdserver: cairn does not accept pre-hashed (bcrypt) passwords; send the password itself")
        }
    }
}

extension Authpb_Permission {
    init(_ permission: AuthPermission) {
        self.init()
        permType = Authpb_Permission.TypeEnum(rawValue: Int(permission.kind.rawValue)) ?? .read
        key = Data(permission.key)
        rangeEnd = Data(permission.rangeEnd)
    }
}

/// The responses of auth changes: nothing but a header.
protocol AuthChangeResponse {
    init()
    var header: Etcdserverpb_ResponseHeader { get set }
}

extension Etcdserverpb_AuthEnableResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthDisableResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthUserAddResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthUserDeleteResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthUserChangePasswordResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthUserGrantRoleResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthUserRevokeRoleResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthRoleAddResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthRoleDeleteResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthRoleGrantPermissionResponse: AuthChangeResponse {}
extension Etcdserverpb_AuthRoleRevokePermissionResponse: AuthChangeResponse {}
