import Foundation

/// One setting of `cairn server`, known by its etcd flag name. The same table serves
/// command-line flags (`--heartbeat-interval`), environment variables (`ETCD_HEARTBEAT_INTERVAL`
/// or `CAIRN_HEARTBEAT_INTERVAL`) and config-file keys (`heartbeat-interval:`).
struct ServerSetting: Sendable {
    let flag: String
    let help: String
    /// A boolean flag, as Go's flag package reads one: `--flag` alone is true, a value only
    /// with `=` (`--flag=false`).
    let isBoolean: Bool
    let apply: @Sendable (inout ServerConfiguration, String) throws -> Void

    init(_ flag: String, _ help: String, isBoolean: Bool = false,
        apply: @escaping @Sendable (inout ServerConfiguration, String) throws -> Void)
    {
        self.flag = flag
        self.help = help
        self.isBoolean = isBoolean
        self.apply = apply
    }

    /// `CAIRN_X` first, then etcd's `ETCD_X`.
    var environmentNames: [String] {
        let suffix = flag.uppercased().replacingOccurrences(of: "-", with: "_")
        return ["CAIRN_" + suffix, "ETCD_" + suffix]
    }

    static let all: [ServerSetting] = [
        ServerSetting("name", "human-readable name of this member") { $0.name = $1 },
        ServerSetting("data-dir", "path to the data directory (default <name>.cairn)") { $0.dataDir = $1 },
        ServerSetting("listen-client-urls", "URLs to serve clients on") {
            $0.listenClientURLs = try urls($1, "listen-client-urls")
        },
        ServerSetting("advertise-client-urls", "client URLs to advertise to the cluster") {
            $0.advertiseClientURLs = try urls($1, "advertise-client-urls")
        },
        ServerSetting("listen-peer-urls", "URLs to serve peers on") {
            $0.listenPeerURLs = try urls($1, "listen-peer-urls")
        },
        ServerSetting("initial-advertise-peer-urls", "peer URLs of this member to advertise") {
            $0.initialAdvertisePeerURLs = try urls($1, "initial-advertise-peer-urls")
        },
        ServerSetting("listen-metrics-urls", "URLs to serve /metrics and /health on") {
            $0.listenMetricsURLs = try urls($1, "listen-metrics-urls")
        },
        ServerSetting("initial-cluster", "founding members: name=peer-url,…") {
            $0.initialCluster = try members($1)
        },
        ServerSetting("initial-cluster-state", "new or existing") {
            guard let state = ServerConfiguration.ClusterState(rawValue: $1.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw ConfigurationError("initial-cluster-state: \"\($1)\" is neither \"new\" nor \"existing\"")
            }
            $0.initialClusterState = state
        },
        ServerSetting("initial-cluster-token", "token that makes this cluster's ids unique") {
            $0.initialClusterToken = $1
        },
        ServerSetting("quota-backend-bytes", "backend size that raises the NOSPACE alarm") {
            $0.quotaBackendBytes = try integer($1, "quota-backend-bytes", in: 1...(1 << 40))
        },
        ServerSetting("max-request-bytes", "largest client request accepted") {
            $0.maxRequestBytes = Int(try integer($1, "max-request-bytes", in: 1...(64 << 20)))
        },
        ServerSetting("snapshot-count", "applied entries between raft snapshots") {
            $0.snapshotCount = UInt64(try integer($1, "snapshot-count", in: 1...Int64(Int32.max)))
        },
        ServerSetting("experimental-snapshot-catchup-entries", "entries kept after a raft snapshot for slow followers (5000)") {
            $0.snapshotCatchUpEntries = UInt64(try integer($1, "experimental-snapshot-catchup-entries", in: 1...Int64(Int32.max)))
        },
        ServerSetting("heartbeat-interval", "milliseconds between leader heartbeats") {
            $0.heartbeatIntervalMs = Int(try integer($1, "heartbeat-interval", in: 1...60_000))
        },
        ServerSetting("election-timeout", "milliseconds before a follower starts an election") {
            $0.electionTimeoutMs = Int(try integer($1, "election-timeout", in: 1...600_000))
        },
        ServerSetting("auto-compaction-mode", "periodic or revision") {
            let mode = $1.trimmingCharacters(in: .whitespacesAndNewlines)
            guard mode == "periodic" || mode == "revision" else {
                throw ConfigurationError("auto-compaction-mode: \"\($1)\" is neither \"periodic\" nor \"revision\"")
            }
            $0.autoCompactionMode = mode
        },
        ServerSetting("auto-compaction-retention", "history to keep: hours (or 30m, 1h) or revisions; 0 disables") {
            $0.autoCompactionRetention = $1.trimmingCharacters(in: .whitespacesAndNewlines)
        },
        ServerSetting("experimental-watch-progress-notify-interval", "period of progress notifications to watchers that ask (10m)") {
            $0.watchProgressNotifyInterval = try duration($1, "experimental-watch-progress-notify-interval")
        },
        ServerSetting("experimental-lease-checkpoint-interval", "period of recording remaining lease TTLs through raft (5m)") {
            $0.leaseCheckpointInterval = try duration($1, "experimental-lease-checkpoint-interval")
        },
        ServerSetting("experimental-initial-corrupt-check", "compare the KV hash with the other members' before serving; refuse to start on a difference", isBoolean: true) {
            $0.initialCorruptCheck = try boolean($1, "experimental-initial-corrupt-check")
        },
        ServerSetting("experimental-corrupt-check-time", "period of the leader's KV hash comparison with the members, raising CORRUPT on a difference (0s: off)") {
            let text = $1.trimmingCharacters(in: .whitespacesAndNewlines)
            $0.corruptCheckInterval = GoDuration.parse(text) == .zero ? .zero : try duration(text, "experimental-corrupt-check-time")
        },
        ServerSetting("snapshot-schedule", "cron expression of scheduled snapshots, e.g. @hourly (cairn; needs --snapshot-dir)") {
            $0.snapshots.schedule = $1.trimmingCharacters(in: .whitespacesAndNewlines)
        },
        ServerSetting("snapshot-dir", "backup directory of scheduled snapshots (cairn)") { $0.snapshots.directory = $1 },
        ServerSetting("snapshot-retain-last", "scheduled snapshots: keep the newest N (cairn)") {
            $0.snapshots.retainLast = Int(try integer($1, "snapshot-retain-last", in: 1...1_000_000))
        },
        ServerSetting("snapshot-retain-hourly", "scheduled snapshots: keep one of each of the last N hours (cairn)") {
            $0.snapshots.retainHourly = Int(try integer($1, "snapshot-retain-hourly", in: 1...1_000_000))
        },
        ServerSetting("snapshot-retain-daily", "scheduled snapshots: keep one of each of the last N days (cairn)") {
            $0.snapshots.retainDaily = Int(try integer($1, "snapshot-retain-daily", in: 1...1_000_000))
        },
        ServerSetting("snapshot-retain-weekly", "scheduled snapshots: keep one of each of the last N weeks (cairn)") {
            $0.snapshots.retainWeekly = Int(try integer($1, "snapshot-retain-weekly", in: 1...1_000_000))
        },
        ServerSetting("snapshot-retain-monthly", "scheduled snapshots: keep one of each of the last N months (cairn)") {
            $0.snapshots.retainMonthly = Int(try integer($1, "snapshot-retain-monthly", in: 1...1_000_000))
        },
        ServerSetting("snapshot-time-zone", "time zone of the snapshot schedule and retention days (UTC)") {
            let zone = $1.trimmingCharacters(in: .whitespacesAndNewlines)
            guard TimeZone(identifier: zone) != nil else {
                throw ConfigurationError("snapshot-time-zone: \"\(zone)\" is not a known time zone (e.g. UTC, Europe/Berlin)")
            }
            $0.snapshots.timeZone = zone
        },
        ServerSetting("snapshot-jitter", "start each scheduled snapshot up to this long late, at random (0s)") {
            guard let jitter = GoDuration.parse($1) else {
                throw ConfigurationError("snapshot-jitter: \"\($1)\" is not a duration such as 30s or 5m")
            }
            $0.snapshots.jitter = jitter
        },
        ServerSetting("snapshot-on-start", "take a scheduled snapshot as soon as the server serves", isBoolean: true) {
            $0.snapshots.onStart = try boolean($1, "snapshot-on-start")
        },
        ServerSetting("snapshot-encrypt-key-file", "encrypt scheduled snapshots with this 32-byte key file (AES-256-GCM; cairn)") {
            $0.snapshots.encryptKeyFile = $1
        },
        ServerSetting("cert-file", "TLS certificate (PEM) served on https client URLs") { $0.clientTLS.certFile = $1 },
        ServerSetting("key-file", "its private key (PEM)") { $0.clientTLS.keyFile = $1 },
        ServerSetting("trusted-ca-file", "CA certificate(s) (PEM) that sign client certificates") { $0.clientTLS.trustedCAFile = $1 },
        ServerSetting("client-cert-auth", "require client certificates signed by --trusted-ca-file", isBoolean: true) {
            $0.clientTLS.clientCertAuth = try boolean($1, "client-cert-auth")
        },
        ServerSetting("peer-cert-file", "TLS certificate (PEM) for https peer URLs, served and presented to peers") { $0.peerTLS.certFile = $1 },
        ServerSetting("peer-key-file", "its private key (PEM)") { $0.peerTLS.keyFile = $1 },
        ServerSetting("peer-trusted-ca-file", "CA certificate(s) (PEM) that sign peer certificates") { $0.peerTLS.trustedCAFile = $1 },
        ServerSetting("peer-client-cert-auth", "require peers to present a certificate of --peer-trusted-ca-file", isBoolean: true) {
            $0.peerTLS.clientCertAuth = try boolean($1, "peer-client-cert-auth")
        },
        ServerSetting("auth-token", "auth token type: simple (etcd's jwt is not supported)") {
            let kind = $1.split(separator: ",").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            guard kind == "simple" else {
                throw ConfigurationError("auth-token: \"\($1)\": cairn issues simple tokens only (\"simple\")")
            }
        },
        ServerSetting("auth-token-ttl", "seconds a simple token stays valid after its last use (300)") {
            $0.authTokenTTL = .seconds(try integer($1, "auth-token-ttl", in: 1...Int64(Int32.max)))
        },
        ServerSetting("log-format", "json (one object per line) or console") {
            let format = $1.trimmingCharacters(in: .whitespacesAndNewlines)
            guard format == "json" || format == "console" else {
                throw ConfigurationError("log-format: \"\($1)\" is neither json nor console")
            }
            $0.logFormat = format
        },
        ServerSetting("log-level", "debug, info, warn or error") {
            let level = $1.trimmingCharacters(in: .whitespacesAndNewlines)
            guard ["debug", "info", "warn", "error"].contains(level) else {
                throw ConfigurationError("log-level: \"\($1)\" is not one of debug, info, warn, error")
            }
            $0.logLevel = level
        },
    ]

    static func named(_ flag: String) -> ServerSetting? {
        all.first { $0.flag == flag }
    }

    private static func urls(_ text: String, _ setting: String) throws -> [URLSpec] {
        var result: [URLSpec] = []
        for part in text.split(separator: ",") where !part.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            result.append(try URLSpec(parsing: String(part), setting: setting))
        }
        return result
    }

    private static func members(_ text: String) throws -> [ClusterMember] {
        var members: [ClusterMember] = []
        for part in text.split(separator: ",") where !part.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            guard let equals = part.firstIndex(of: "=") else {
                throw ConfigurationError("initial-cluster: \"\(part)\" is not name=peer-url")
            }
            let name = part[..<equals].trimmingCharacters(in: .whitespacesAndNewlines)
            let url = try URLSpec(parsing: String(part[part.index(after: equals)...]), setting: "initial-cluster")
            // A member with several peer URLs appears once per URL, as in etcd.
            if let existing = members.firstIndex(where: { $0.name == name }) {
                members[existing].peerURLs.append(url)
            } else {
                members.append(ClusterMember(name: name, peerURLs: [url]))
            }
        }
        return members
    }

    private static func duration(_ text: String, _ setting: String) throws -> Duration {
        guard let duration = GoDuration.parse(text), duration > .zero else {
            throw ConfigurationError("\(setting): \"\(text)\" is not a positive duration such as 10m or 500ms")
        }
        return duration
    }

    private static func boolean(_ text: String, _ setting: String) throws -> Bool {
        guard let value = Bool(text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()) else {
            throw ConfigurationError("\(setting): \"\(text)\" is neither true nor false")
        }
        return value
    }

    private static func integer(_ text: String, _ setting: String, in range: ClosedRange<Int64>) throws -> Int64 {
        guard let value = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)), range.contains(value) else {
            throw ConfigurationError("\(setting): \"\(text)\" is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
}
