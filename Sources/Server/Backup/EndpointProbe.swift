import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Storage

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

    /// A read refused by auth still went through a leader (etcd's `endpoint health` counts
    /// permission denied as healthy, and so does this probe).
    public static func ask(endpoint: String, access: ClientAccess = ClientAccess(), timeout: Duration = .seconds(3)) async throws
        -> Answer
    {
        // A bad endpoint or TLS setting throws here; a server that cannot be reached is down.
        let transport = try access.transport(for: endpoint)
        let options = { () -> CallOptions in
            var options = CallOptions.defaults
            options.timeout = timeout
            return options
        }()
        return await (try? withGRPCClient(transport: transport) { client -> Answer in
            let metadata = try await access.login(client)
            let status: Etcdserverpb_StatusResponse
            do {
                status = try await Etcdserverpb_Maintenance.Client(wrapping: client)
                    .status(Etcdserverpb_StatusRequest(), metadata: metadata, options: options)
            } catch {
                return .down
            }
            guard status.leader != 0 else {
                return .up(revision: status.header.revision, healthy: false, detail: "no leader")
            }
            var health = Etcdserverpb_RangeRequest()
            health.key = Data("health".utf8)
            do {
                let range = try await Etcdserverpb_KV.Client(wrapping: client).range(health, metadata: metadata, options: options)
                return .up(revision: range.header.revision, healthy: true, detail: "leader \(String(status.leader, radix: 16))")
            } catch let error as RPCError where Self.refusedByAuth(error) {
                return .up(revision: status.header.revision, healthy: true,
                    detail: "leader \(String(status.leader, radix: 16)); the read was refused by auth (\(error.message))")
            } catch {
                return .up(revision: status.header.revision, healthy: false, detail: "linearizable read failed: \(error)")
            }
        }) ?? .down
    }

    private static func refusedByAuth(_ error: RPCError) -> Bool {
        [AuthError.permissionDenied, .userEmpty].contains { EtcdError.from($0).message == error.message }
    }
}
