import GRPCCore
import GRPCNIOTransportHTTP2
import X509

/// What a request brought to prove who sent it: the `token` metadata etcd clients send after
/// Authenticate, and the common name of a verified client certificate. Put in a task local by
/// ``CredentialsInterceptor`` for the handler to resolve (the simple service handlers see no
/// metadata).
struct Credentials: Sendable {
    static let tokenKey = "token"

    var token: String?
    var certificateCommonName: String?

    @TaskLocal static var current = Credentials()
}

struct CredentialsInterceptor: ServerInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let certificate = (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate
        let credentials = Credentials(
            token: request.metadata[stringValues: Credentials.tokenKey].first(where: { _ in true }),
            certificateCommonName: certificate.flatMap(Self.commonName))
        var response = try await Credentials.$current.withValue(credentials) {
            try await next(request, context)
        }
        // A streaming handler's body runs in the producer, after `next` has returned.
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in
                try await Credentials.$current.withValue(credentials) { try await producer(writer) }
            }
            response.accepted = .success(contents)
        }
        return response
    }

    static func commonName(of certificate: Certificate) -> String? {
        for name in certificate.subject {
            for attribute in name where attribute.type == .RDNAttributeType.commonName {
                return attribute.value.description
            }
        }
        return nil
    }
}
