import API
import Storage

/// The permission checks of a client write, made when its entry is applied: every member
/// decides alike from the same replicated users and roles, and a permission revoked while a
/// request was in flight is already in force when it applies (etcd's auth applier).
enum AuthEnforcement {
    static func check(_ request: Cairnpb_InternalRequest, in transaction: borrowing WriteTransaction) throws {
        guard request.hasCaller else { return }
        switch request.request {
        case .put, .deleteRange, .txn, .leaseRevoke, .authChange: break
        // Unchecked, as in etcd; the membership and alarm calls are checked where served.
        case .compaction, .leaseGrant, .leaseCheckpoint, .alarm, .memberAttributes, .memberUpdate, .authenticate, nil:
            return
        }
        let username = request.caller.username
        let (enabled, found) = try transaction.authRanges(of: username)
        guard enabled else { return }
        guard !username.isEmpty else { throw AuthError.userEmpty }
        guard let ranges = found else { throw AuthError.permissionDenied }
        if ranges.isRoot { return }
        switch request.request {
        case .put(let put):
            try check(put, ranges, transaction)
        case .deleteRange(let delete):
            try check(delete, ranges)
        case .txn(let txn):
            try check(txn, ranges, transaction)
        case .leaseRevoke(let revoke):
            try checkAttachedKeys(of: revoke.id, ranges, transaction)
        default:
            // Changes to users, roles and the enabled flag: the root role only.
            throw AuthError.permissionDenied
        }
    }

    private static func require(_ allowed: Bool) throws {
        if !allowed { throw AuthError.permissionDenied }
    }

    /// A put needs write access to its key, read access too when it returns the previous
    /// value, and write access to every key already on the lease it attaches to.
    private static func check(_ put: Etcdserverpb_PutRequest, _ ranges: AuthRanges, _ transaction: borrowing WriteTransaction) throws {
        try require(ranges.permits(.write, key: Array(put.key)))
        if put.prevKv { try require(ranges.permits(.read, key: Array(put.key))) }
        if put.lease != 0 { try checkAttachedKeys(of: put.lease, ranges, transaction) }
    }

    private static func check(_ delete: Etcdserverpb_DeleteRangeRequest, _ ranges: AuthRanges) throws {
        try require(ranges.permits(.write, key: Array(delete.key), rangeEnd: Array(delete.rangeEnd)))
        if delete.prevKv { try require(ranges.permits(.read, key: Array(delete.key), rangeEnd: Array(delete.rangeEnd))) }
    }

    /// Both branches are checked, whichever runs: the compares read their keys.
    private static func check(_ txn: Etcdserverpb_TxnRequest, _ ranges: AuthRanges, _ transaction: borrowing WriteTransaction) throws {
        for compare in txn.compare {
            try require(ranges.permits(.read, key: Array(compare.key), rangeEnd: Array(compare.rangeEnd)))
        }
        for operation in txn.success + txn.failure {
            switch operation.request {
            case .requestRange(let range):
                try require(ranges.permits(.read, key: Array(range.key), rangeEnd: Array(range.rangeEnd)))
            case .requestPut(let put):
                try check(put, ranges, transaction)
            case .requestDeleteRange(let delete):
                try check(delete, ranges)
            case .requestTxn(let inner):
                try check(inner, ranges, transaction)
            case nil:
                break
            }
        }
    }

    private static func checkAttachedKeys(of lease: Int64, _ ranges: AuthRanges, _ transaction: borrowing WriteTransaction) throws {
        for key in try transaction.keys(attachedTo: lease) {
            try require(ranges.permits(.write, key: key))
        }
    }
}

/// Which simple tokens an applied auth change makes void.
enum TokenRevocation: Sendable {
    case none
    case user(String)
    case all
}

/// Applies users, roles and the enabled flag from an auth change entry.
enum AuthApplier {
    static func apply(_ change: Cairnpb_AuthChange, in transaction: borrowing WriteTransaction) throws -> TokenRevocation {
        switch change.change {
        case .enable:
            try transaction.enableAuth()
            return .none
        case .disable:
            try transaction.disableAuth()
            return .all
        case .userAdd(let add):
            try transaction.addUser(AuthUser(name: add.name, passwordHash: add.passwordHash, noPassword: add.noPassword))
            return .none
        case .userDelete(let delete):
            try transaction.deleteUser(delete.name)
            return .user(delete.name)
        case .userChangePassword(let change):
            try transaction.changePassword(of: change.name, to: change.passwordHash)
            return .user(change.name)
        case .userGrantRole(let grant):
            try transaction.grantRole(grant.role, to: grant.user)
            return .none
        case .userRevokeRole(let revoke):
            try transaction.revokeRole(revoke.role, from: revoke.name)
            return .none
        case .roleAdd(let add):
            try transaction.addRole(add.name)
            return .none
        case .roleDelete(let delete):
            try transaction.deleteRole(delete.role)
            return .none
        case .roleGrantPermission(let grant):
            guard let kind = AuthPermission.Kind(rawValue: Int32(grant.perm.permType.rawValue)) else {
                throw StorageError(.invalidArgument, "etcdserver: unknown permission type \(grant.perm.permType.rawValue)")
            }
            try transaction.grantPermission(
                AuthPermission(kind: kind, key: Array(grant.perm.key), rangeEnd: Array(grant.perm.rangeEnd)), to: grant.name)
            return .none
        case .roleRevokePermission(let revoke):
            try transaction.revokePermission(key: Array(revoke.key), rangeEnd: Array(revoke.rangeEnd), from: revoke.role)
            return .none
        case nil:
            return .none
        }
    }
}
