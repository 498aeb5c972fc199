import API
import GRPCCore

/// `grpc.health.v1.Health`, which etcd registers: the empty service name and the etcd
/// services report SERVING while this member runs.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws
        -> Grpc_Health_V1_HealthCheckResponse
    {
        guard request.service.isEmpty || request.service.hasPrefix("etcdserverpb.") else {
            throw RPCError(code: .notFound, message: "unknown service \(request.service)")
        }
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = .serving
        return response
    }

    func watch(request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext) async throws
    {
        var status = Grpc_Health_V1_HealthCheckResponse()
        status.status = .serving
        try await response.write(status)
        // The status never changes while the member runs; hold the stream until the client leaves.
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(3600))
        }
    }
}
