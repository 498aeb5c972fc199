import API
import Foundation
import Storage

// Conversions between etcd's wire messages and the storage engine's request types. Requests
// are checked here for what etcd refuses before they reach raft.

extension Storage.RangeRequest {
    init(_ request: Etcdserverpb_RangeRequest) {
        let order: SortOrder =
            switch request.sortOrder {
            case .ascend: .ascend
            case .descend: .descend
            default: .none
            }
        let target: SortTarget =
            switch request.sortTarget {
            case .version: .version
            case .create: .create
            case .mod: .mod
            case .value: .value
            default: .key
            }
        self.init(
            key: Array(request.key), rangeEnd: Array(request.rangeEnd), limit: request.limit,
            revision: request.revision, sortOrder: order, sortTarget: target, keysOnly: request.keysOnly,
            countOnly: request.countOnly, minModRevision: request.minModRevision,
            maxModRevision: request.maxModRevision, minCreateRevision: request.minCreateRevision,
            maxCreateRevision: request.maxCreateRevision)
    }
}

extension Storage.PutRequest {
    init(_ request: Etcdserverpb_PutRequest) {
        self.init(
            key: Array(request.key), value: Array(request.value), lease: request.lease, prevKV: request.prevKv,
            ignoreValue: request.ignoreValue, ignoreLease: request.ignoreLease)
    }
}

extension Storage.DeleteRangeRequest {
    init(_ request: Etcdserverpb_DeleteRangeRequest) {
        self.init(key: Array(request.key), rangeEnd: Array(request.rangeEnd), prevKV: request.prevKv)
    }
}

extension Storage.Compare {
    init(_ compare: Etcdserverpb_Compare) {
        let result: Result =
            switch compare.result {
            case .notEqual: .notEqual
            case .less: .less
            case .greater: .greater
            default: .equal
            }
        let target: Target
        switch compare.targetUnion {
        case .createRevision(let value): target = .createRevision(value)
        case .modRevision(let value): target = .modRevision(value)
        case .value(let value): target = .value(Array(value))
        case .lease(let value): target = .lease(value)
        case .version(let value): target = .version(value)
        case nil:
            // An unset oneof compares against zero of the named target, as etcd does.
            switch compare.target {
            case .create: target = .createRevision(0)
            case .mod: target = .modRevision(0)
            case .value: target = .value([])
            case .lease: target = .lease(0)
            default: target = .version(0)
            }
        }
        self.init(key: Array(compare.key), rangeEnd: Array(compare.rangeEnd), result: result, target: target)
    }
}

extension Storage.TxnRequest {
    init(_ request: Etcdserverpb_TxnRequest) {
        self.init(
            compare: request.compare.map(Storage.Compare.init),
            success: request.success.compactMap(Storage.RequestOp.init),
            failure: request.failure.compactMap(Storage.RequestOp.init))
    }
}

extension Storage.RequestOp {
    init?(_ op: Etcdserverpb_RequestOp) {
        switch op.request {
        case .requestRange(let range): self = .range(Storage.RangeRequest(range))
        case .requestPut(let put): self = .put(Storage.PutRequest(put))
        case .requestDeleteRange(let delete): self = .deleteRange(Storage.DeleteRangeRequest(delete))
        case .requestTxn(let txn): self = .txn(Storage.TxnRequest(txn))
        case nil: return nil
        }
    }
}

extension Mvccpb_KeyValue {
    init(_ kv: Storage.KeyValue) {
        self.init()
        key = Data(kv.key)
        createRevision = kv.createRevision
        modRevision = kv.modRevision
        version = kv.version
        value = Data(kv.value)
        lease = kv.lease
    }
}

extension Etcdserverpb_RangeResponse {
    init(_ response: Storage.RangeResponse, header: Etcdserverpb_ResponseHeader) {
        self.init()
        self.header = header
        kvs = response.kvs.map(Mvccpb_KeyValue.init)
        more = response.more
        count = response.count
    }
}

extension Etcdserverpb_PutResponse {
    init(_ response: Storage.PutResponse, header: Etcdserverpb_ResponseHeader) {
        self.init()
        self.header = header
        if let previous = response.prevKV { prevKv = Mvccpb_KeyValue(previous) }
    }
}

extension Etcdserverpb_DeleteRangeResponse {
    init(_ response: Storage.DeleteRangeResponse, header: Etcdserverpb_ResponseHeader) {
        self.init()
        self.header = header
        deleted = response.deleted
        prevKvs = response.prevKVs.map(Mvccpb_KeyValue.init)
    }
}

extension Etcdserverpb_TxnResponse {
    /// Only the top-level response carries the full header; etcd gives nested responses a
    /// header with just their revision (the read's revision for ranges, the write's for writes).
    init(_ response: Storage.TxnResponse, header: Etcdserverpb_ResponseHeader) {
        self.init()
        self.header = header
        succeeded = response.succeeded
        responses = response.responses.map { op in
            var wire = Etcdserverpb_ResponseOp()
            switch op {
            case .range(let range):
                wire.responseRange = Etcdserverpb_RangeResponse(range, header: .revision(range.revision))
            case .put(let put):
                wire.responsePut = Etcdserverpb_PutResponse(put, header: .revision(put.revision))
            case .deleteRange(let delete):
                wire.responseDeleteRange = Etcdserverpb_DeleteRangeResponse(delete, header: .revision(delete.revision))
            case .txn(let txn):
                wire.responseTxn = Etcdserverpb_TxnResponse(txn, header: .revision(txn.revision))
            }
            return wire
        }
    }
}

extension Etcdserverpb_ResponseHeader {
    static func revision(_ revision: Int64) -> Self {
        var header = Self()
        header.revision = revision
        return header
    }
}

/// etcd's request checks that happen before a write is proposed.
enum RequestValidation {
    static let maxTxnOps = 128

    static func check(_ request: Etcdserverpb_PutRequest) throws {
        if request.key.isEmpty { throw EtcdError.emptyKey }
    }

    static func check(_ request: Etcdserverpb_DeleteRangeRequest) throws {
        if request.key.isEmpty { throw EtcdError.emptyKey }
    }

    static func check(_ request: Etcdserverpb_RangeRequest) throws {
        if request.key.isEmpty { throw EtcdError.emptyKey }
    }

    /// At most 128 operations per branch, and no key both written and deleted, or written
    /// twice, by one path through the txn and its nested txns (etcd's rules).
    static func check(_ request: Etcdserverpb_TxnRequest) throws {
        guard max(request.compare.count, request.success.count, request.failure.count) <= maxTxnOps else {
            throw EtcdError.tooManyOps
        }
        for compare in request.compare where compare.key.isEmpty { throw EtcdError.emptyKey }
        for op in request.success + request.failure {
            switch op.request {
            case .requestPut(let put): try check(put)
            case .requestDeleteRange(let delete): try check(delete)
            case .requestRange(let range): try check(range)
            case .requestTxn(let nested): try check(nested)
            case nil: break
            }
        }
        _ = try TxnWrites(request.success)
        _ = try TxnWrites(request.failure)
    }
}

/// The keys one branch of a txn puts and the ranges it deletes, nested txns included; building
/// it fails with etcd's duplicate-key error where a put collides with another put or a delete.
/// The two branches of a nested txn exclude each other, so they may put the same key.
private struct TxnWrites {
    var puts: Set<Data> = []
    var deletes: [(key: Data, end: Data)] = []

    init(_ ops: [Etcdserverpb_RequestOp]) throws {
        for op in ops {
            guard case .requestDeleteRange(let delete) = op.request else { continue }
            deletes.append((delete.key, delete.rangeEnd))
        }
        for op in ops {
            guard case .requestTxn(let nested) = op.request else { continue }
            let then = try TxnWrites(nested.success)
            let otherwise = try TxnWrites(nested.failure)
            for key in then.puts {
                guard !puts.contains(key), !deletesCover(key) else { throw EtcdError.duplicateKey }
            }
            for key in otherwise.puts {
                guard !puts.contains(key) || then.puts.contains(key), !deletesCover(key) else { throw EtcdError.duplicateKey }
            }
            puts.formUnion(then.puts)
            puts.formUnion(otherwise.puts)
            deletes += then.deletes + otherwise.deletes
        }
        for op in ops {
            guard case .requestPut(let put) = op.request else { continue }
            guard !deletesCover(put.key), puts.insert(put.key).inserted else { throw EtcdError.duplicateKey }
        }
    }

    /// A delete's range is its key alone without a range end, everything from its key on
    /// with the end `\0`, else the half-open range up to its end.
    private func deletesCover(_ key: Data) -> Bool {
        deletes.contains { delete in
            if delete.end.isEmpty { return key == delete.key }
            guard !key.lexicographicallyPrecedes(delete.key) else { return false }
            return delete.end == Data([0]) || key.lexicographicallyPrecedes(delete.end)
        }
    }
}

extension AlarmRecord.Kind {
    /// The name etcd prints (`etcdctl alarm list`, Status errors).
    var etcdName: String {
        switch self {
        case .noSpace: "NOSPACE"
        case .corrupt: "CORRUPT"
        }
    }
}

extension Etcdserverpb_AlarmMember {
    init(_ alarm: AlarmRecord) {
        self.init()
        memberID = alarm.memberID
        self.alarm = Etcdserverpb_AlarmType(rawValue: Int(alarm.kind.rawValue)) ?? .none
    }
}
