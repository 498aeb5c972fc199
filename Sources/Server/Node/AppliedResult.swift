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
    case alarm
    /// The entry was applied before (a replay after restart): nobody is waiting for it.
    case alreadyApplied

    /// Runs `request` inside the storage write transaction of its log entry.
    static func execute(_ request: Cairnpb_InternalRequest, in transaction: inout WriteTransaction) throws -> AppliedResult {
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
        case .alarm:
            return .alarm
        case nil:
            return .alreadyApplied
        }
    }
}
