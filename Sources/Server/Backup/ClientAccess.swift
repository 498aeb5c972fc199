import API
import GRPCCore
import GRPCNIOTransportHTTP2

/// How cairn's own client commands (`snapshot save --endpoints`, `schedule`, the restore
/// runbook's probe) reach a server, with etcdctl's flags: an http or https endpoint, the CA
/// that signs the server's certificate (`--cacert`), a client certificate (`--cert`, `--key`),
/// and a user for auth (`--user name:password`, or `--user name --password …`).
public struct ClientAccess: Sendable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var user: String?
    public var password: String?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, user: String? = nil,
        password: String? = nil)
    {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.user = user
        self.password = password
    }

    /// The name and password `--user` gives, as etcdctl splits it at the first colon.
    var credentials: (name: String, password: String)? {
        guard let user else { return nil }
        if let password { return (user, password) }
        guard let colon = user.firstIndex(of: ":") else { return (user, "") }
        return (String(user[..<colon]), String(user[user.index(after: colon)...]))
    }

    /// Refuses what cannot work before anything connects.
    public func validate() throws {
        if (certFile == nil) != (keyFile == nil) {
            throw ConfigurationError("--cert and --key go together: give both, or neither")
        }
    }

    private func security(for url: URLSpec) throws -> HTTP2ClientTransport.Posix.TransportSecurity {
        switch url.scheme {
        case "http":
            return .plaintext
        case "https":
            let roots = caFile.map { TLSConfig.TrustRootsSource.certificates([.file(path: $0, format: .pem)]) }
            guard let certFile, let keyFile else {
                return .tls { config in if let roots { config.trustRoots = roots } }
            }
            return .mTLS(certificateChain: [.file(path: certFile, format: .pem)], privateKey: .file(path: keyFile, format: .pem)) {
                config in
                if let roots { config.trustRoots = roots }
            }
        default:
            throw ConfigurationError("endpoint \(url): cairn speaks http and https, not \(url.scheme)")
        }
    }

    /// A transport to `endpoint` with this access's TLS settings.
    public func transport(for endpoint: String) throws -> HTTP2ClientTransport.Posix {
        let url = try URLSpec(parsing: endpoint, setting: "endpoints")
        return try HTTP2ClientTransport.Posix(target: .ipv4(address: url.host, port: url.port), transportSecurity: try security(for: url))
    }

    /// The metadata calls through `client` must carry: the token of `--user` once
    /// authenticated (none without a user, or when the server has auth disabled, as etcdctl
    /// does).
    public func login(_ client: GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Metadata {
        var metadata = Metadata()
        guard let credentials else { return metadata }
        var request = Etcdserverpb_AuthenticateRequest()
        request.name = credentials.name
        request.password = credentials.password
        var options = CallOptions.defaults
        options.timeout = .seconds(10)
        do {
            let answer = try await Etcdserverpb_Auth.Client(wrapping: client).authenticate(request, options: options)
            metadata.addString(answer.token, forKey: Credentials.tokenKey)
        } catch let error as RPCError where error.message == EtcdError.from(.authNotEnabled).message {
            // Auth is off: nothing to present.
        }
        return metadata
    }

    /// Connects to `endpoint` and runs `body` with the metadata its calls must carry.
    public func withClient<T: Sendable>(
        endpoint: String, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, Metadata) async throws -> T
    ) async throws -> T {
        try await withGRPCClient(transport: try transport(for: endpoint)) { client in
            try await body(client, try await login(client))
        }
    }
}
