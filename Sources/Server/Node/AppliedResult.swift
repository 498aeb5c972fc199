import API
import Storage

/// What applying one client request produced, handed to the request waiting for it.
enum AppliedResult: Sendable {
    case put(Storage.PutResponse)
    case deleteRange(Storage.DeleteRangeResponse)
    case txn(Storage.TxnResponse)
    case compaction(revision: Int64)
    case leaseGrant(id: Int64, ttlSeconds: Int64)
    case leaseRevoke(deletedKeys: Int)
    case leaseCheckpoint
    /// The alarms the request raised or cleared.
    case alarm([AlarmRecord])
    /// The members after a membership change.
    case members([MemberRecord])
    /// Users, roles or the enabled flag changed; the tokens the change voids.
    case authChanged(TokenRevocation)
    /// A password check passed: `token` now stands for `user` on every member.
    case authenticated(user: String, token: String)
    /// The entry was applied before (a replay after restart): nobody is waiting for it.
    case alreadyApplied

    /// Runs `request`, the entry at raft `index`, inside the storage write transaction of its
    /// log entry.
    static func execute(_ request: Cairnpb_InternalRequest, index: UInt64, in transaction: inout WriteTransaction) throws
        -> AppliedResult
    {
        try AuthEnforcement.check(request, in: transaction)
        let needsSpace = request.quotaCostBytes > 0
        let changesData = request.changesKeysOrLeases
        if needsSpace || changesData {
            let alarms = try transaction.alarms()
            // While a CORRUPT alarm is active, the data is not trusted: writes are refused on
            // every member alike (etcd's corrupt applier); reads and alarm changes go through.
            if changesData, alarms.contains(where: { $0.kind == .corrupt }) { throw EtcdError.corrupt }
            // While a NOSPACE alarm is active, requests that need space are refused (etcd's
            // capped applier); deletes, compaction and revokes go through.
            if needsSpace, alarms.contains(where: { $0.kind == .noSpace }) { throw StorageError.noSpace }
        }
        switch request.request {
        case .put(let put):
            return .put(try transaction.put(Storage.PutRequest(put)))
        case .deleteRange(let delete):
            return .deleteRange(try transaction.deleteRange(Storage.DeleteRangeRequest(delete)))
        case .txn(let txn):
            return .txn(try transaction.txn(Storage.TxnRequest(txn)))
        case .compaction(let compaction):
            try transaction.compact(revision: compaction.revision)
            return .compaction(revision: compaction.revision)
        case .leaseGrant(let grant):
            try transaction.grantLease(LeaseRecord(id: grant.id, ttlSeconds: grant.ttl))
            return .leaseGrant(id: grant.id, ttlSeconds: grant.ttl)
        case .leaseRevoke(let revoke):
            return .leaseRevoke(deletedKeys: try transaction.revokeLease(id: revoke.id).count)
        case .alarm(let alarm):
            return .alarm(try apply(alarm, in: transaction))
        case .leaseCheckpoint(let checkpoints):
            for checkpoint in checkpoints.checkpoints {
                try transaction.checkpointLease(id: checkpoint.id, remainingSeconds: checkpoint.remainingTtl)
            }
            return .leaseCheckpoint
        case .memberAttributes(let attributes):
            try Membership.apply(attributes, in: transaction)
            return .members(try transaction.members())
        case .memberUpdate(let update):
            try Membership.apply(update, in: transaction)
            return .members(try transaction.members())
        case .authChange(let change):
            return .authChanged(try AuthApplier.apply(change, in: transaction))
        case .authenticate(let authenticate):
            // The password was checked where the request arrived; the user may have gone since.
            guard try transaction.authStatus().enabled else { throw AuthError.authNotEnabled }
            guard try transaction.user(authenticate.name) != nil else { throw AuthError.authFailed }
            return .authenticated(user: authenticate.name, token: "\(authenticate.tokenPrefix).\(index)")
        case nil:
            return .alreadyApplied
        }
    }

    /// etcd answers an activation with the alarm, active before or not, and a deactivation
    /// with the alarm only when it was active. Alarm types cairn does not know change nothing.
    private static func apply(_ request: Etcdserverpb_AlarmRequest, in transaction: borrowing WriteTransaction) throws
        -> [AlarmRecord]
    {
        guard let kind = AlarmRecord.Kind(rawValue: Int32(request.alarm.rawValue)) else { return [] }
        let alarm = AlarmRecord(memberID: request.memberID, kind: kind)
        switch request.action {
        case .activate:
            try transaction.activate(alarm)
            return [alarm]
        case .deactivate:
            return try transaction.deactivate(alarm) ? [alarm] : []
        case .get, .UNRECOGNIZED:
            return []
        }
    }
}

extension Cairnpb_InternalRequest {
    /// The bytes the request would add to the backend (etcd's quota cost): zero for requests
    /// that only read, delete or compact, which are allowed past the quota.
    var quotaCostBytes: Int {
        switch request {
        case .put(let put): put.key.count + put.value.count
        case .txn(let txn): Self.cost(of: txn)
        case .leaseGrant: 16
        default: 0
        }
    }

    private static func cost(of txn: Etcdserverpb_TxnRequest) -> Int {
        func cost(_ ops: [Etcdserverpb_RequestOp]) -> Int {
            ops.reduce(0) { total, op in
                switch op.request {
                case .requestPut(let put): total + put.key.count + put.value.count
                case .requestTxn(let inner): total + Self.cost(of: inner)
                default: total
                }
            }
        }
        return max(cost(txn.success), cost(txn.failure))
    }

    /// The requests etcd's corrupt applier refuses: those that change keys or leases.
    var changesKeysOrLeases: Bool {
        switch request {
        case .put, .deleteRange, .txn, .compaction, .leaseGrant, .leaseRevoke: true
        default: false
        }
    }
}
