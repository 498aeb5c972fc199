import Foundation

/// Everything `cairn server` is told at start-up, under etcd's names and defaults (except the
/// data directory, `<name>.cairn`), so etcd's systemd units and config files work unchanged.
public struct ServerConfiguration: Sendable, Equatable {
    public enum ClusterState: String, Sendable, Equatable {
        case new
        case existing
    }

    public var name = "default"
    /// Empty means `<name>.cairn`, resolved by ``resolvedDataDir``.
    public var dataDir = ""
    public var listenClientURLs = [URLSpec(scheme: "http", host: "127.0.0.1", port: 2379)]
    public var advertiseClientURLs = [URLSpec(scheme: "http", host: "127.0.0.1", port: 2379)]
    public var listenPeerURLs = [URLSpec(scheme: "http", host: "127.0.0.1", port: 2380)]
    public var initialAdvertisePeerURLs = [URLSpec(scheme: "http", host: "127.0.0.1", port: 2380)]
    public var listenMetricsURLs: [URLSpec] = []
    /// `name=url,name=url`; empty means this member alone, at its advertised peer URLs.
    public var initialCluster: [ClusterMember] = []
    public var initialClusterState = ClusterState.new
    public var initialClusterToken = "etcd-cluster"
    public var quotaBackendBytes: Int64 = 2 << 30
    public var maxRequestBytes = 1_572_864
    public var snapshotCount: UInt64 = 100_000
    /// Entries kept in memory after a raft snapshot so a follower slightly behind catches up
    /// from the log rather than by a whole snapshot.
    public var snapshotCatchUpEntries: UInt64 = 5000
    public var heartbeatIntervalMs = 100
    public var electionTimeoutMs = 1000
    public var autoCompactionMode = "periodic"
    public var autoCompactionRetention = "0"
    public var logLevel = "info"
    /// `json` (etcd's default) or `console`.
    public var logFormat = "json"
    public var watchProgressNotifyInterval = Duration.seconds(600)
    public var leaseCheckpointInterval = Duration.seconds(300)
    /// `--experimental-initial-corrupt-check`: compare hashes with the members before serving.
    public var initialCorruptCheck = false
    /// `--experimental-corrupt-check-time`: the leader's periodic hash comparison; zero is off.
    public var corruptCheckInterval = Duration.zero
    /// Where to serve the failpoint switch (`CAIRN_FAILPOINTS_HTTP`, testing only); nil: nowhere.
    public var failpointsHTTP: URLSpec?
    /// How long a simple auth token lives after its last use (`--auth-token-ttl`, seconds).
    public var authTokenTTL = Duration.seconds(300)
    /// cairn's own: scheduled snapshots taken by the server process itself (`cairn schedule run`
    /// in the same process), when `snapshotSchedule` is set.
    public var snapshots = SnapshotSchedule()
    /// `--cert-file --key-file --trusted-ca-file --client-cert-auth`: TLS on https client URLs.
    public var clientTLS = TLSFiles()
    /// The `--peer-*` equivalents, for https peer URLs.
    public var peerTLS = TLSFiles()

    public struct TLSFiles: Sendable, Equatable {
        public var certFile: String?
        public var keyFile: String?
        public var trustedCAFile: String?
        /// Clients must present a certificate signed by `trustedCAFile`.
        public var clientCertAuth = false
    }

    public struct SnapshotSchedule: Sendable, Equatable {
        /// A cron expression (validated where the scheduler is built).
        public var schedule: String?
        public var directory: String?
        public var retainLast: Int?
        public var retainHourly: Int?
        public var retainDaily: Int?
        public var retainWeekly: Int?
        public var retainMonthly: Int?
        public var timeZone = "UTC"
        public var jitter = Duration.zero
        public var onStart = false
        /// `--snapshot-encrypt-key-file`: scheduled snapshots are encrypted with this key.
        public var encryptKeyFile: String?
    }

    public init() {}

    public var resolvedDataDir: String { dataDir.isEmpty ? "\(name).cairn" : dataDir }

    /// The founding members, defaulting to this member alone.
    public var resolvedInitialCluster: [ClusterMember] {
        initialCluster.isEmpty ? [ClusterMember(name: name, peerURLs: initialAdvertisePeerURLs)] : initialCluster
    }

    /// Checks what single settings cannot: relations between them.
    public func validate() throws {
        guard electionTimeoutMs >= 5 * heartbeatIntervalMs else {
            throw ConfigurationError(
                "--election-timeout (\(electionTimeoutMs) ms) must be at least 5 times --heartbeat-interval (\(heartbeatIntervalMs) ms)")
        }
        guard resolvedInitialCluster.contains(where: { $0.name == name }) else {
            throw ConfigurationError(
                "--initial-cluster has no member named \"\(name)\" (--name); members: \(resolvedInitialCluster.map(\.name).joined(separator: ", "))")
        }
        if initialClusterState == .existing && !resolvedInitialCluster.contains(where: { $0.name != name }) {
            throw ConfigurationError(
                "--initial-cluster-state existing: --initial-cluster must also list running members to join through; it lists only \"\(name)\"")
        }
        guard quotaBackendBytes > 0 else { throw ConfigurationError("--quota-backend-bytes must be positive") }
        guard !listenClientURLs.isEmpty else { throw ConfigurationError("--listen-client-urls is empty") }
        try validateTLS()
        if snapshots.schedule != nil && snapshots.directory == nil {
            throw ConfigurationError("--snapshot-schedule needs --snapshot-dir, the backup directory to write into")
        }
        if snapshots.schedule == nil && snapshots != SnapshotSchedule() {
            throw ConfigurationError("--snapshot-dir, --snapshot-retain-* and the other snapshot settings need --snapshot-schedule")
        }
        try refuseWhatThisVersionCannotDo()
    }

    /// https URLs need a certificate and its key; client certificates need a CA to check them
    /// against; every file named must be readable now, not at the first connection.
    private func validateTLS() throws {
        // https metrics URLs serve the client certificate, as etcd's do.
        try Self.validate(clientTLS, secure: (listenClientURLs + listenMetricsURLs).contains { $0.scheme == "https" }, prefix: "",
            urlsFlag: "listen-client-urls and --listen-metrics-urls")
        let peerURLs = listenPeerURLs + initialAdvertisePeerURLs + resolvedInitialCluster.flatMap(\.peerURLs)
        try Self.validate(peerTLS, secure: peerURLs.contains { $0.scheme == "https" }, prefix: "peer-",
            urlsFlag: "listen-peer-urls, --initial-advertise-peer-urls and --initial-cluster")
    }

    private static func validate(_ files: TLSFiles, secure: Bool, prefix: String, urlsFlag: String) throws {
        if secure, files.certFile == nil || files.keyFile == nil {
            throw ConfigurationError("--\(urlsFlag): https URLs need --\(prefix)cert-file and --\(prefix)key-file")
        }
        if files.clientCertAuth, files.trustedCAFile == nil {
            throw ConfigurationError("--\(prefix)client-cert-auth needs --\(prefix)trusted-ca-file, the CA that signs \(prefix.isEmpty ? "client" : "peer") certificates")
        }
        if !secure, files != TLSFiles() {
            throw ConfigurationError("--\(prefix)cert-file, --\(prefix)key-file, --\(prefix)trusted-ca-file and --\(prefix)client-cert-auth apply to https --\(urlsFlag); none is https")
        }
        for (flag, path) in [("cert-file", files.certFile), ("key-file", files.keyFile), ("trusted-ca-file", files.trustedCAFile)] {
            guard let path else { continue }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError("--\(prefix)\(flag): cannot read \(path)")
            }
        }
    }

    /// Settings etcd accepts that this version cannot honour yet: refusing them beats
    /// silently running without (an operator would believe compaction or metrics were on).
    private func refuseWhatThisVersionCannotDo() throws {
        for url in listenMetricsURLs where url.scheme != "http" && url.scheme != "https" {
            throw ConfigurationError("--listen-metrics-urls: \(url): metrics are served on http or https URLs")
        }
        guard autoCompactionRetention == "0" || autoCompactionRetention.isEmpty else {
            throw ConfigurationError(
                "--auto-compaction-retention=\(autoCompactionRetention): this cairn version has no automatic compaction yet; compact with etcdctl compaction")
        }
    }
}

/// A member of `--initial-cluster`.
public struct ClusterMember: Sendable, Equatable {
    public var name: String
    public var peerURLs: [URLSpec]

    public init(name: String, peerURLs: [URLSpec]) {
        self.name = name
        self.peerURLs = peerURLs
    }
}

/// A listen or advertise URL: `http://host:port` or `https://host:port`.
public struct URLSpec: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int

    public init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    public init(parsing text: String, setting: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let schemeEnd = trimmed.range(of: "://") else {
            throw ConfigurationError("\(setting): \"\(text)\" is not a URL (expected http://host:port)")
        }
        scheme = String(trimmed[..<schemeEnd.lowerBound]).lowercased()
        guard scheme == "http" || scheme == "https" || scheme == "unix" || scheme == "unixs" else {
            throw ConfigurationError("\(setting): unsupported scheme \"\(scheme)\" in \"\(text)\"")
        }
        var rest = trimmed[schemeEnd.upperBound...]
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ConfigurationError("\(setting): \"\(text)\" has no valid port")
        }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ConfigurationError("\(setting): \"\(text)\" has no host") }
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "\(scheme)://[\(host)]:\(port)" : "\(scheme)://\(host):\(port)"
    }
}

/// A setting that could not be used, saying which and why.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
