import Storage
import Foundation

/// What `cairn runbook restore` does for one member, read from a small, strict YAML file.
///
/// ```yaml
/// dataDir: /var/lib/cairn            # the path the server is configured with
/// restoreParent: /var/lib            # optional, default: dirname(dataDir)
/// dataDirMayBeMissing: false         # optional; true for total loss of the old data-dir
/// endpoint: http://127.0.0.1:2379    # probed for down/up/revision
/// member:
///   name: node1
///   initialCluster: node1=http://127.0.0.1:2380
///   initialClusterToken: restored-2026-11-25
///   initialAdvertisePeerURLs: http://127.0.0.1:2380
///   bumpRevision: auto               # or an integer; optional
///   markCompacted: true              # optional, default false
/// apiServer:                         # optional; or {staticPod: {manifest: PATH, parkDir: DIR}}
///   stop: {command: "systemctl stop kube-apiserver"}
///   start: {command: "systemctl start kube-apiserver"}
/// server:                            # stop/start each {systemd: UNIT} or {command: "sh text"},
///   stop: {systemd: cairn.service}   # or both as {staticPod: {manifest: PATH, parkDir: DIR}}
///   start: {systemd: cairn.service}
///   stopTimeout: 60s                 # optional, default 60s
///   startTimeout: 120s               # optional, default 120s
/// repoint: {symlink: {}}             # or {systemdDropIn: {unit: U, path: P}} or {staticPod: {manifest: P}}
/// ```
///
/// Unknown keys are errors naming the key, every path must be absolute (no `..`), durations carry a
/// unit (`500ms`, `90s`, `2m`, `1h`).
public struct RunbookPlan: Sendable, Equatable {
    /// The data-dir path the server is configured with (for `staticPod` repointing: the hostPath).
    public var dataDir: String
    /// Where the restored data-dir is created; the default is `dataDir`'s parent.
    public var restoreParent: String
    /// Whether preflight accepts a missing `dataDir` (total loss of the member's disk).
    public var dataDirMayBeMissing: Bool
    /// The client URL probed for down, up and revision.
    public var endpoint: String
    /// The new member's identity and the restore's revision handling.
    public var member: RunbookMember
    /// How to stop and start the Kubernetes API server, when there is one.
    public var apiServer: ServiceControl?
    /// How to stop and start this member's server.
    public var server: Server
    /// How the server is made to use the restored data-dir.
    public var repoint: Repoint

    public init(
        dataDir: String, restoreParent: String? = nil, dataDirMayBeMissing: Bool = false,
        endpoint: String, member: RunbookMember, apiServer: ServiceControl? = nil,
        server: Server, repoint: Repoint
    ) {
        self.dataDir = dataDir
        self.restoreParent = restoreParent ?? PathText.parent(of: dataDir)
        self.dataDirMayBeMissing = dataDirMayBeMissing
        self.endpoint = endpoint
        self.member = member
        self.apiServer = apiServer
        self.server = server
        self.repoint = repoint
    }

    /// The server's controls and how long stopping and starting may take.
    public struct Server: Sendable, Equatable {
        public var control: ServiceControl
        public var stopTimeout: Duration
        public var startTimeout: Duration

        public init(control: ServiceControl, stopTimeout: Duration = .seconds(60), startTimeout: Duration = .seconds(120)) {
            self.control = control
            self.stopTimeout = stopTimeout
            self.startTimeout = startTimeout
        }
    }

    /// How a service is stopped and started.
    public enum ServiceControl: Sendable, Equatable {
        /// A stop and a start action, each a systemd unit or a shell command.
        case actions(stop: Action, start: Action)
        /// A kubelet static pod, stopped by moving its manifest out of the manifests directory.
        case staticPod(StaticPod)
    }

    /// One way to act on a service.
    public enum Action: Sendable, Equatable {
        /// `systemctl stop|start UNIT`.
        case systemd(unit: String)
        /// Shell text run as `/bin/sh -c TEXT`.
        case command(String)

        /// What runs: `verb` (stop or start) applies to a systemd unit; shell text says it all.
        func command(verb: String) -> RunbookCommand {
            switch self {
            case .systemd(let unit): .exec(["systemctl", verb, unit])
            case .command(let text): .shell(text)
            }
        }
    }

    /// A kubelet static pod and the directory its manifest is parked in while it must not run.
    public struct StaticPod: Sendable, Equatable {
        public var manifest: String
        /// Must be outside the manifests directory (kubelet would run anything in it) and on the
        /// same file system (so parking is a rename).
        public var parkDir: String

        public init(manifest: String, parkDir: String) {
            self.manifest = manifest
            self.parkDir = parkDir
        }

        /// The directory kubelet watches.
        public var manifestsDir: String { PathText.parent(of: manifest) }
        /// Where the manifest is while the pod is stopped.
        public var parkedManifest: String { PathText.join(parkDir, PathText.base(of: manifest)) }
    }

    /// How the server is pointed at the restored data-dir.
    public enum Repoint: Sendable, Equatable {
        /// `dataDir` becomes (or stays) a symlink, atomically replaced to name the new data-dir.
        case symlink
        /// A systemd drop-in sets `ETCD_DATA_DIR` and `CAIRN_DATA_DIR`; the unit's `ExecStart` must not pass
        /// `--data-dir` or `--config-file` (flags and a config file win over the environment).
        case systemdDropIn(unit: String, path: String)
        /// Every `spec.volumes[].hostPath.path` equal to `dataDir` in the manifest is changed.
        case staticPod(manifest: String)

        /// The drop-in file systemd reads for `unit` when the plan names none.
        public static func defaultDropInPath(unit: String) -> String {
            "/etc/systemd/system/\(unit).d/50-cairn-restore.conf"
        }
    }

    /// The server's static pod when the plan runs the server as one.
    var serverStaticPod: StaticPod? {
        if case .staticPod(let pod) = server.control { return pod }
        return nil
    }
}

/// The restored member, from the plan's `member:` section, handed to the injected restore.
public struct RunbookMember: Sendable, Equatable {
    public var name: String
    public var initialCluster: String
    public var initialClusterToken: String
    public var initialAdvertisePeerURLs: String
    /// `nil`: no bump.
    public var bumpRevision: RevisionBump?
    public var markCompacted: Bool

    public init(
        name: String, initialCluster: String, initialClusterToken: String, initialAdvertisePeerURLs: String,
        bumpRevision: RevisionBump? = nil, markCompacted: Bool = false
    ) {
        self.name = name
        self.initialCluster = initialCluster
        self.initialClusterToken = initialClusterToken
        self.initialAdvertisePeerURLs = initialAdvertisePeerURLs
        self.bumpRevision = bumpRevision
        self.markCompacted = markCompacted
    }
}
