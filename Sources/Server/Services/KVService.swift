import API
import GRPCCore
import Storage

/// etcd's KV service: reads are linearizable unless the request asks for serializable;
/// writes go through raft and answer with what applying them produced.
struct KVService: Etcdserverpb_KV.SimpleServiceProtocol {
    let server: EtcdServer

    func range(request: Etcdserverpb_RangeRequest, context: ServerContext) async throws -> Etcdserverpb_RangeResponse {
        try await answeringAsEtcd {
            try RequestValidation.check(request)
            if !request.serializable {
                try await server.host.linearizableBarrier()
            }
            try server.auth.requireRead(key: Array(request.key), rangeEnd: Array(request.rangeEnd))
            let response = try server.store.range(Storage.RangeRequest(request))
            return Etcdserverpb_RangeResponse(response, header: await server.header(revision: response.revision))
        }
    }

    func put(request: Etcdserverpb_PutRequest, context: ServerContext) async throws -> Etcdserverpb_PutResponse {
        try await answeringAsEtcd {
            try RequestValidation.check(request)
            guard case .put(let response) = try await server.propose({ $0.put = request }) else {
                throw RPCError(code: .internalError, message: "etcdserver: unexpected apply result for put")
            }
            return Etcdserverpb_PutResponse(response, header: await server.header(revision: response.revision))
        }
    }

    func deleteRange(request: Etcdserverpb_DeleteRangeRequest, context: ServerContext) async throws
        -> Etcdserverpb_DeleteRangeResponse
    {
        try await answeringAsEtcd {
            try RequestValidation.check(request)
            guard case .deleteRange(let response) = try await server.propose({ $0.deleteRange = request }) else {
                throw RPCError(code: .internalError, message: "etcdserver: unexpected apply result for delete")
            }
            return Etcdserverpb_DeleteRangeResponse(response, header: await server.header(revision: response.revision))
        }
    }

    func txn(request: Etcdserverpb_TxnRequest, context: ServerContext) async throws -> Etcdserverpb_TxnResponse {
        try await answeringAsEtcd {
            try RequestValidation.check(request)
            guard case .txn(let response) = try await server.propose({ $0.txn = request }) else {
                throw RPCError(code: .internalError, message: "etcdserver: unexpected apply result for txn")
            }
            return Etcdserverpb_TxnResponse(response, header: await server.header(revision: response.revision))
        }
    }

    func compact(request: Etcdserverpb_CompactionRequest, context: ServerContext) async throws
        -> Etcdserverpb_CompactionResponse
    {
        try await answeringAsEtcd {
            _ = try await server.propose { $0.compaction = request }
            if request.physical {
                try await server.store.waitForCompaction()
            }
            var response = Etcdserverpb_CompactionResponse()
            response.header = try await server.header()
            return response
        }
    }
}
