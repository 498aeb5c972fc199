import API
import Foundation
import GRPCCore
import GRPCInProcessTransport
import XCTest

/// The generated server protocols and clients work together: a `SimpleServiceProtocol`
/// conformance registers with a `GRPCServer` and the generated client reaches it by method path.
final class GeneratedServiceTests: XCTestCase {
    func testKVClientReachesASimpleServiceImplementation() async throws {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data("k".utf8)

        let response = try await withInProcessServer(services: [EchoKV()]) { client in
            try await Etcdserverpb_KV.Client(wrapping: client).range(request)
        }

        XCTAssertEqual(response.kvs.map(\.key), [Data("k".utf8)])
        XCTAssertEqual(response.header.revision, 1)
    }

    func testUnimplementedRPCsAnswerWithTheirStatusCode() async throws {
        do {
            _ = try await withInProcessServer(services: [EchoKV()]) { client in
                try await Etcdserverpb_KV.Client(wrapping: client).compact(Etcdserverpb_CompactionRequest())
            }
            XCTFail("compact should have failed")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .unimplemented)
        }
    }

    func testHealthCheckReportsServing() async throws {
        let response = try await withInProcessServer(services: [ServingHealth()]) { client in
            try await Grpc_Health_V1_Health.Client(wrapping: client).check(Grpc_Health_V1_HealthCheckRequest())
        }
        XCTAssertEqual(response.status, .serving)
    }

    private func withInProcessServer<Result: Sendable>(
        services: [any RegistrableRPCService],
        _ body: (GRPCClient<InProcessTransport.Client>) async throws -> Result
    ) async throws -> Result {
        let transport = InProcessTransport()
        return try await withGRPCServer(transport: transport.server, services: services) { _ in
            try await withGRPCClient(transport: transport.client) { client in
                try await body(client)
            }
        }
    }
}

/// Answers Range with the requested key; everything else is unimplemented.
private struct EchoKV: Etcdserverpb_KV.SimpleServiceProtocol {
    func range(
        request: Etcdserverpb_RangeRequest,
        context: ServerContext
    ) async throws -> Etcdserverpb_RangeResponse {
        var response = Etcdserverpb_RangeResponse()
        response.header.revision = 1
        response.kvs = [Mvccpb_KeyValue.with { $0.key = request.key }]
        response.count = 1
        return response
    }

    func put(request: Etcdserverpb_PutRequest, context: ServerContext) async throws -> Etcdserverpb_PutResponse {
        throw RPCError(code: .unimplemented, message: "put")
    }

    func deleteRange(
        request: Etcdserverpb_DeleteRangeRequest,
        context: ServerContext
    ) async throws -> Etcdserverpb_DeleteRangeResponse {
        throw RPCError(code: .unimplemented, message: "deleteRange")
    }

    func txn(request: Etcdserverpb_TxnRequest, context: ServerContext) async throws -> Etcdserverpb_TxnResponse {
        throw RPCError(code: .unimplemented, message: "txn")
    }

    func compact(
        request: Etcdserverpb_CompactionRequest,
        context: ServerContext
    ) async throws -> Etcdserverpb_CompactionResponse {
        throw RPCError(code: .unimplemented, message: "compact")
    }
}

private struct ServingHealth: Grpc_Health_V1_Health.SimpleServiceProtocol {
    func check(
        request: Grpc_Health_V1_HealthCheckRequest,
        context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        .with { $0.status = .serving }
    }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest,
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        try await response.write(.with { $0.status = .serving })
    }
}
