import GRPCNIOTransportHTTP2
import Logging
import NIOCertificateReloading
import NIOSSL

/// TLS on the URLs a member serves (client or peer): its certificate and key, re-read every
/// ``reloadInterval`` so a renewed certificate reaches new connections without a restart (as
/// etcd re-reads its files), and with client-certificate auth the CA that signs clients'
/// certificates, checked without hostname verification, as etcd checks them.
struct ServingTLS: Sendable {
    static let reloadInterval = Duration.seconds(5)

    let files: ServerConfiguration.TLSFiles
    /// nil without a certificate: only plain http URLs can be served then (validation made
    /// sure https ones have their files).
    private let reloader: TimedCertificateReloader?

    /// Reads the certificate and key once now, so a bad pair stops the start with the reason.
    init(files: ServerConfiguration.TLSFiles, role: String, logger: Logger) throws {
        self.files = files
        guard let certificate = files.certFile, let key = files.keyFile else {
            reloader = nil
            return
        }
        let configuration = TimedCertificateReloader.Configuration(
            refreshInterval: Self.reloadInterval,
            certificateSource: .init(location: .file(path: certificate), format: .pem),
            privateKeySource: .init(location: .file(path: key), format: .pem)
        ) { configuration in
            configuration.onCertificateLoaded = { diff in
                guard let previous = diff.previousX509CertificateChain, previous != diff.currentX509CertificateChain else { return }
                logger.info("reloaded a renewed TLS certificate", metadata: [
                    "role": "\(role)", "cert-file": "\(certificate)",
                    "not-after": "\(diff.currentX509CertificateChain.first.map { "\($0.notValidAfter)" } ?? "?")",
                ])
            }
            configuration.onCertificateLoadFailed = { failure in
                logger.warning("cannot reload the TLS certificate; still serving the previous one", metadata: [
                    "role": "\(role)", "cert-file": "\(certificate)", "key-file": "\(key)", "error": "\(failure.error)",
                ])
            }
        }
        do {
            reloader = try TimedCertificateReloader.makeReloaderValidatingSources(configuration: configuration)
        } catch {
            throw ConfigurationError("\(role) TLS: cannot use \(certificate) and \(key): \(error)")
        }
    }

    func transportSecurity(for url: URLSpec) throws -> HTTP2ServerTransport.Posix.TransportSecurity {
        guard url.scheme == "https", let reloader else { return .plaintext }
        let roots: TLSConfig.TrustRootsSource? = files.trustedCAFile.map { .certificates([.file(path: $0, format: .pem)]) }
        if files.clientCertAuth {
            return try .mTLS(certificateReloader: reloader) { config in
                if let roots { config.trustRoots = roots }
            }
        }
        return try .tls(certificateReloader: reloader)
    }

    /// The same TLS for an HTTP/1.1 listener (https metrics URLs); nil without a certificate.
    func sslContext() throws -> NIOSSLContext? {
        guard let reloader else { return nil }
        var configuration = try TLSConfiguration.makeServerConfiguration(certificateReloader: reloader)
        if files.clientCertAuth {
            configuration.certificateVerification = .noHostnameVerification
            if let ca = files.trustedCAFile { configuration.trustRoots = .file(ca) }
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// Re-reads the files every ``reloadInterval`` until cancelled.
    func run() async {
        try? await reloader?.run()
    }
}
