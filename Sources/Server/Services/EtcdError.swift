import GRPCCore
import Storage

/// The errors etcd clients match by message text, with etcd's gRPC status codes.
enum EtcdError {
    static let noLeader = RPCError(code: .unavailable, message: "etcdserver: no leader")
    static let leaderChanged = RPCError(code: .unavailable, message: "etcdserver: leader changed")
    static let timeout = RPCError(code: .unavailable, message: "etcdserver: request timed out")
    static let stopped = RPCError(code: .unavailable, message: "etcdserver: server stopped")
    static let requestTooLarge = RPCError(code: .invalidArgument, message: "etcdserver: request is too large")
    static let tooManyOps = RPCError(code: .invalidArgument, message: "etcdserver: too many operations in txn request")
    static let duplicateKey = RPCError(code: .invalidArgument, message: "etcdserver: duplicate key given in txn request")
    static let emptyKey = RPCError(code: .invalidArgument, message: "etcdserver: key is not provided")
    static let leaseNotFound = RPCError(code: .notFound, message: "etcdserver: requested lease not found")
    static let memberNotFound = RPCError(code: .notFound, message: "etcdserver: member not found")
    static let leaderTransferTimeout = RPCError(
        code: .deadlineExceeded, message: "etcdserver: request timed out, leader transfer took too long")
    static let badLeaderTransferee = RPCError(code: .failedPrecondition, message: "etcdserver: bad leader transferee")
    static let notCapable = RPCError(code: .failedPrecondition, message: "etcdserver: not capable")
    static let corrupt = RPCError(code: .dataLoss, message: "etcdserver: corrupt cluster")

    /// Maps a storage failure to what etcd answers in the same situation.
    static func from(_ error: any Error) -> RPCError {
        if let rpc = error as? RPCError { return rpc }
        if let auth = error as? AuthError { return from(auth) }
        guard let storage = error as? StorageError else {
            return RPCError(code: .internalError, message: "etcdserver: \(error)")
        }
        let code: RPCError.Code
        switch storage.code {
        case .compacted, .futureRevision: code = .outOfRange
        case .noSpace: code = .resourceExhausted
        case .leaseNotFound, .keyNotFound: code = .notFound
        case .leaseExists: code = .failedPrecondition
        case .invalidArgument, .keyTooLarge: code = .invalidArgument
        default: code = .internalError
        }
        return RPCError(code: code, message: storage.message)
    }
}

extension EtcdError {
    /// etcd's status and text for each auth refusal (clientv3 matches the text).
    static func from(_ error: AuthError) -> RPCError {
        switch error {
        case .userEmpty: RPCError(code: .invalidArgument, message: "etcdserver: user name is empty")
        case .userAlreadyExists: RPCError(code: .failedPrecondition, message: "etcdserver: user name already exists")
        case .userNotFound: RPCError(code: .failedPrecondition, message: "etcdserver: user name not found")
        case .roleEmpty: RPCError(code: .invalidArgument, message: "etcdserver: role name is empty")
        case .roleAlreadyExists: RPCError(code: .failedPrecondition, message: "etcdserver: role name already exists")
        case .roleNotFound: RPCError(code: .failedPrecondition, message: "etcdserver: role name not found")
        case .authFailed:
            RPCError(code: .invalidArgument, message: "etcdserver: authentication failed, invalid user ID or password")
        case .permissionDenied: RPCError(code: .permissionDenied, message: "etcdserver: permission denied")
        case .roleNotGranted: RPCError(code: .failedPrecondition, message: "etcdserver: role is not granted to the user")
        case .permissionNotGranted:
            RPCError(code: .failedPrecondition, message: "etcdserver: permission is not granted to the role")
        case .authNotEnabled: RPCError(code: .failedPrecondition, message: "etcdserver: authentication is not enabled")
        case .invalidAuthToken: RPCError(code: .unauthenticated, message: "etcdserver: invalid auth token")
        case .invalidAuthManagement: RPCError(code: .invalidArgument, message: "etcdserver: invalid auth management")
        case .rootUserNotExist: RPCError(code: .failedPrecondition, message: "etcdserver: root user does not exist")
        case .rootRoleNotExist: RPCError(code: .failedPrecondition, message: "etcdserver: root user does not have root role")
        }
    }
}

/// Runs a service handler's body and answers any failure the way etcd would.
func answeringAsEtcd<Response: Sendable>(_ body: () async throws -> Response) async throws -> Response {
    do {
        return try await body()
    } catch {
        throw EtcdError.from(error)
    }
}
