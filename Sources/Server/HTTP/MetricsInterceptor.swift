import GRPCCore

/// Counts every client RPC as go-grpc-prometheus does for etcd: started, then handled with its
/// status code (`grpc_server_started_total`, `grpc_server_handled_total`).
struct MetricsInterceptor: ServerInterceptor {
    let counters: ServerCounters

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let call = ServerCounters.Call(type: Self.kind(context.descriptor), service: context.descriptor.service.fullyQualifiedService,
            method: context.descriptor.method)
        counters.started(call)
        do {
            let response = try await next(request, context)
            switch response.accepted {
            case .success: counters.handled(call, code: "OK")
            case .failure(let error): counters.handled(call, code: Self.name(error.code))
            }
            return response
        } catch let error as RPCError {
            counters.handled(call, code: Self.name(error.code))
            throw error
        } catch {
            counters.handled(call, code: "Unknown")
            throw error
        }
    }

    /// etcd's Watch and LeaseKeepAlive are bidirectional streams, Snapshot a server stream.
    private static func kind(_ method: MethodDescriptor) -> String {
        switch method.method {
        case "Watch", "LeaseKeepAlive": "bidi_stream"
        case "Snapshot": "server_stream"
        default: "unary"
        }
    }

    /// The status code as Go's codes.Code prints it (`NotFound`, `FailedPrecondition`, …).
    private static func name(_ code: RPCError.Code) -> String {
        let text = String(describing: code)
        guard let first = text.first else { return "Unknown" }
        return first.uppercased() + text.dropFirst()
    }
}
