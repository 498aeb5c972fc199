import API
import GRPCCore
import GRPCNIOTransportHTTP2
import Storage
import Synchronization

/// A connection to the current leader's peer service, for what only the leader can answer
/// (lease keep-alives and remaining TTLs). One client is kept per leader URL and replaced
/// when the leader changes.
final class LeaderForwarder: Sendable {
    private struct Connection {
        let url: String
        let client: GRPCClient<HTTP2ClientTransport.Posix>
    }

    private let host: RaftHost
    private let store: MVCCStore
    private let security: PeerSecurity
    private let connection = Mutex<Connection?>(nil)

    init(host: RaftHost, store: MVCCStore, security: PeerSecurity) {
        self.host = host
        self.store = store
        self.security = security
    }

    /// Runs `body` against the leader; etcd's "no leader" when there is none.
    func call<Result: Sendable>(
        _ body: (Cairnpb_Peer.Client<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        let leader = await host.leader
        guard leader != 0, let url = try store.members().first(where: { $0.id == leader })?.peerURLs.first else {
            throw EtcdError.noLeader
        }
        return try await body(Cairnpb_Peer.Client(wrapping: try client(for: url)))
    }

    private func client(for url: String) throws -> GRPCClient<HTTP2ClientTransport.Posix> {
        let spec = try URLSpec(parsing: url, setting: "leader peer URL")
        let security = security
        let (client, replaced) = try connection.withLock { current -> (GRPCClient<HTTP2ClientTransport.Posix>, GRPCClient<HTTP2ClientTransport.Posix>?) in
            if let current, current.url == url { return (current.client, nil) }
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: spec.host, port: spec.port), transportSecurity: security.client(for: spec))
            let client = GRPCClient(transport: transport)
            let old = current?.client
            current = Connection(url: url, client: client)
            Task { try? await client.runConnections() }
            return (client, old)
        }
        replaced?.beginGracefulShutdown()
        return client
    }

    func stop() {
        connection.withLock { current in
            current?.client.beginGracefulShutdown()
            current = nil
        }
    }
}
