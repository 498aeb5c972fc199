import GRPCCore

/// etcd clients mark requests that must not be served without a leader (clientv3's
/// `WithRequireLeader`, used for watches) with the metadata `hasleader: true`; such a request
/// is refused with etcd's "no leader" while this member knows none.
struct RequireLeaderInterceptor: ServerInterceptor {
    static let key = "hasleader"
    let host: RaftHost

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        if request.metadata[stringValues: Self.key].contains("true"), await host.leader == .none {
            return StreamingServerResponse(error: EtcdError.noLeader)
        }
        return try await next(request, context)
    }
}
