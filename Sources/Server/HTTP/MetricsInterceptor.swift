import GRPCCore

/// Counts every client RPC as go-grpc-prometheus does for etcd: started, then handled with its
/// status code and how long it took (`grpc_server_started_total`, `grpc_server_handled_total`,
/// `grpc_server_handling_seconds`). A stream is handled when its response stream ends.
struct MetricsInterceptor: ServerInterceptor {
    let counters: ServerCounters

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let call = ServerCounters.Call(type: Self.kind(context.descriptor), service: context.descriptor.service.fullyQualifiedService,
            method: context.descriptor.method)
        let counters = counters
        let start = ContinuousClock.now
        counters.started(call)
        let handled: @Sendable (String) -> Void = { code in counters.handled(call, code: code, after: ContinuousClock.now - start) }
        do {
            var response = try await next(request, context)
            switch response.accepted {
            case .success(var contents):
                let producer = contents.producer
                contents.producer = { writer in
                    do {
                        let trailers = try await producer(writer)
                        handled("OK")
                        return trailers
                    } catch {
                        handled(Self.name(of: error))
                        throw error
                    }
                }
                response.accepted = .success(contents)
            case .failure(let error):
                handled(Self.name(error.code))
            }
            return response
        } catch {
            handled(Self.name(of: error))
            throw error
        }
    }

    private static func name(of error: any Error) -> String {
        (error as? RPCError).map { name($0.code) } ?? "Unknown"
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
