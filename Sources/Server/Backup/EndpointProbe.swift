import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// What a running server says about itself, asked the way `etcdctl endpoint health` asks:
/// used by the restore runbook to see a server stop, and to see it back at the right revision.
public enum EndpointProbe {
    public enum Answer: Sendable, Equatable {
        /// Nothing answers at the endpoint.
        case down
        /// A server answers; `healthy` when it has a leader and a linearizable read succeeds,
        /// `revision` from that read (or from its status when the read fails).
        case up(revision: Int64, healthy: Bool, detail: String)
    }

    public static func ask(endpoint: String, timeout: Duration = .seconds(3)) async throws -> Answer {
        let url = try URLSpec(parsing: endpoint, setting: "endpoint")
        guard url.scheme == "http" else {
            throw ConfigurationError("endpoint \(endpoint): https endpoints are not supported by this cairn version yet")
        }
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: url.host, port: url.port), transportSecurity: .plaintext)
        var options = CallOptions.defaults
        options.timeout = timeout
        return await (try? withGRPCClient(transport: transport) { client -> Answer in
            let status: Etcdserverpb_StatusResponse
            do {
                status = try await Etcdserverpb_Maintenance.Client(wrapping: client)
                    .status(Etcdserverpb_StatusRequest(), options: options)
            } catch {
                return .down
            }
            guard status.leader != 0 else {
                return .up(revision: status.header.revision, healthy: false, detail: "no leader")
            }
            var health = Etcdserverpb_RangeRequest()
            health.key = Data("health".utf8)
            do {
                let range = try await Etcdserverpb_KV.Client(wrapping: client).range(health, options: options)
                return .up(revision: range.header.revision, healthy: true, detail: "leader \(String(status.leader, radix: 16))")
            } catch {
                return .up(revision: status.header.revision, healthy: false, detail: "linearizable read failed: \(error)")
            }
        }) ?? .down
    }
}
