import GRPCNIOTransportHTTP2

/// TLS between members (`--peer-cert-file --peer-key-file --peer-trusted-ca-file
/// --peer-client-cert-auth`) for https peer URLs, as a connecting member: it presents its
/// certificate (read anew for each connection) and checks the other's against the peer CA
/// (the serving side is ``ServingTLS``). Certificate chains are
/// checked; host names and IPs are not (members are named by the CA, not by DNS).
struct PeerSecurity: Sendable {
    let files: ServerConfiguration.TLSFiles

    private var chain: [TLSConfig.CertificateSource] { [.file(path: files.certFile ?? "", format: .pem)] }
    private var key: TLSConfig.PrivateKeySource { .file(path: files.keyFile ?? "", format: .pem) }
    private var roots: TLSConfig.TrustRootsSource? { files.trustedCAFile.map { .certificates([.file(path: $0, format: .pem)]) } }

    func client(for url: URLSpec) -> HTTP2ClientTransport.Posix.TransportSecurity {
        guard url.scheme == "https" else { return .plaintext }
        return .mTLS(certificateChain: chain, privateKey: key) { [roots] config in
            if let roots { config.trustRoots = roots }
            config.serverCertificateVerification = .noHostnameVerification
        }
    }
}
